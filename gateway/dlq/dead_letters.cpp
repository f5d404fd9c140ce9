#include "gateway/dlq/dead_letters.h"

#include <future>

#include "gateway/kafka/producer.h"
#include "gateway/kafka/topic_names.h"
#include "gateway/status/receipt_signature.h"

namespace xoev {
namespace {

// Reads a whole topic with a reader-mode consumer, calling `each` per record.
template <class Fn>
Status read_topic(const KafkaConnection& connection, const std::string& topic, Fn each) {
  auto reader = Consumer::create_reader(connection, topic, std::chrono::seconds(10));
  if (!reader) return reader.problem();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (std::chrono::steady_clock::now() < deadline) {
    auto polled = (*reader)->poll(std::chrono::milliseconds(200));
    if (polled && polled->has_value()) {
      each(**polled);
      continue;
    }
    auto done = (*reader)->caught_up();
    if (done && *done) return ok_status();
  }
  return Problem::make(ProblemKind::broker_unavailable, "could not read " + topic + " to its end within 2 minutes");
}

}  // namespace

nlohmann::json DeadLetter::to_json() const {
  return {{"messageId", message_id},
          {"unverified", unverified},
          {"origin", origin},
          {"reason", reason},
          {"attempts", attempts},
          {"messageType", record.env.get(header::message_type)},
          {"acceptedAt", record.env.get(header::accepted_at)},
          {"partition", record.partition},
          {"offset", record.offset},
          {"status", current ? std::string(to_string(*current)) : "unknown"},
          {"pending", pending()}};
}

Result<std::vector<DeadLetter>> read_dead_letters(const KafkaConnection& connection, const DestinationSection& destination,
                                                  const crypto::KeyRing& receipt_signers) {
  StatusStore status;
  if (auto s = read_topic(connection, std::string(names::kReceiptsTopic),
                          [&](const ConsumedRecord& r) {
                            if (auto receipt = verify_receipt(r.env, receipt_signers)) status.apply(*receipt);
                          });
      !s)
    return s.problem();
  std::vector<DeadLetter> letters;
  if (auto s = read_topic(connection, names::dlq_topic(destination.id),
                          [&](const ConsumedRecord& r) {
                            DeadLetter d;
                            d.record = r;
                            d.unverified = r.env.get(header::dlq_unverified) == "true";
                            d.origin = r.env.get(header::dlq_topic) + "/" + r.env.get(header::dlq_partition) + "/" +
                                       r.env.get(header::dlq_offset);
                            // An unverified letter's id is only what its writer claimed.
                            d.message_id = d.unverified ? std::string{} : r.env.get(header::message_id);
                            d.reason = r.env.get(header::dlq_reason);
                            try {
                              d.attempts = std::stoi(r.env.get(header::dlq_attempts));
                            } catch (...) {
                              d.attempts = 0;
                            }
                            letters.push_back(std::move(d));
                          });
      !s)
    return s.problem();
  for (auto& d : letters)
    if (!d.unverified)
      if (auto m = status.get(d.message_id)) d.current = m->status;
  return letters;
}

Result<size_t> replay_dead_letters(const KafkaConnection& connection, const DestinationSection& destination,
                                   const std::vector<DeadLetter>& letters, const std::optional<std::string>& only_id,
                                   std::chrono::milliseconds ack_timeout) {
  auto producer = Producer::create(connection, "xoevgate-dlq-replay", ack_timeout);
  if (!producer) return producer.problem();
  std::vector<std::future<Status>> acks;
  std::vector<std::string> seen;
  for (const auto& d : letters) {
    if (d.unverified || (only_id ? d.message_id != *only_id : !d.pending())) continue;
    if (std::find(seen.begin(), seen.end(), d.message_id) != seen.end()) continue;  // once per message
    seen.push_back(d.message_id);
    Envelope env = d.record.env;
    env.topic = destination.topic;
    std::erase_if(env.headers, [](const auto& h) { return h.first.rfind("xoev-dlq-", 0) == 0; });
    auto done = std::make_shared<std::promise<Status>>();
    acks.push_back(done->get_future());
    (*producer)->produce(std::move(env), [done](Result<BrokerAck> r) { done->set_value(r ? ok_status() : Status(r.problem())); });
  }
  size_t replayed = 0;
  std::optional<Problem> first_error;
  for (auto& f : acks) {
    const Status s = f.get();
    if (s) ++replayed;
    else if (!first_error) first_error = s.problem();
  }
  if (first_error) return Problem::make(ProblemKind::broker_unavailable,
                                        std::to_string(replayed) + " replayed, the others not: " + first_error->detail);
  if (only_id && replayed == 0)
    return Problem::make(ProblemKind::not_found, "no dead letter with message id '" + *only_id + "' for " + destination.id);
  return replayed;
}

}  // namespace xoev
