#include "gateway/status/receipt_publisher.h"

#include <spdlog/spdlog.h>

#include "gateway/kafka/topic_names.h"

namespace xoev {

void ReceiptPublisher::publish(const Receipt& r, std::function<void(Status)> done) {
  Envelope env;
  env.topic = std::string(names::kReceiptsTopic);
  env.key = r.message_id;
  env.value = r.to_json();
  env.set(header::content_type, "application/json");
  const std::string id = r.message_id;
  const std::string status(to_string(r.status));
  sink_.produce(std::move(env), [id, status, done = std::move(done)](Result<BrokerAck> d) {
    if (!d) spdlog::error("receipt {} for message {} not stored: {}", status, id, d.problem().one_line());
    if (done) done(d ? ok_status() : Status(d.problem()));
  });
}

}  // namespace xoev
