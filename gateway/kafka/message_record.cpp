#include "gateway/kafka/message_record.h"

namespace xoev {

Envelope to_record(Message m, std::string topic) {
  Envelope env;
  env.topic = std::move(topic);
  env.key = m.message_id;
  env.set(header::message_id, m.message_id);
  env.set(header::message_type, m.message_type);
  env.set(header::standard, m.standard);
  env.set(header::sender, m.sender);
  env.set(header::recipient, m.recipient);
  env.set(header::destination, m.destination);
  env.set(header::accepted_at, m.accepted_at);
  env.set(header::content_type, "application/xml");
  env.set(header::traceparent, m.traceparent);
  env.set(header::route, m.route);
  env.value = std::move(m.body);
  return env;
}

Message from_record(const Envelope& record) {
  Message m;
  m.message_id = record.get(header::message_id);
  m.message_type = record.get(header::message_type);
  m.standard = record.get(header::standard);
  m.sender = record.get(header::sender);
  m.recipient = record.get(header::recipient);
  m.destination = record.get(header::destination);
  m.accepted_at = record.get(header::accepted_at);
  m.route = record.get(header::route);
  m.traceparent = record.get(header::traceparent);
  return m;
}

}  // namespace xoev
