#include "gateway/status/receipt_publisher.h"

#include <spdlog/spdlog.h>

#include "gateway/kafka/topic_names.h"
#include "gateway/status/own_receipts.h"
#include "gateway/status/receipt_signature.h"

namespace xoev {

void ReceiptPublisher::publish(const Receipt& r, std::function<void(Status)> done) {
  Envelope env;
  env.topic = std::string(names::kReceiptsTopic);
  env.key = r.message_id;
  env.value = r.to_json();
  env.set(header::content_type, "application/json");
  const std::string id = r.message_id;
  const std::string status(to_string(r.status));
  // Readers apply only signed receipts: an unsigned one would be lost, so say so now.
  if (auto signed_ok = sign_receipt(env, signing_key_); !signed_ok) {
    spdlog::error("receipt {} for message {} not signed: {}", status, id, signed_ok.problem().one_line());
    if (done) done(std::move(signed_ok));
    return;
  }
  // Before it can come back: this process's tracker then knows it without verifying.
  OwnReceipts::of_this_process().remember(env.key, env.value, public_key_);
  sink_.produce(std::move(env), [id, status, done = std::move(done)](Result<BrokerAck> d) {
    if (!d) spdlog::error("receipt {} for message {} not stored: {}", status, id, d.problem().one_line());
    if (done) done(d ? ok_status() : Status(d.problem()));
  });
}

}  // namespace xoev
