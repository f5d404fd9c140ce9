#include "gateway/status/receipts_tracker.h"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include "gateway/core/routing_fields.h"
#include "gateway/kafka/consumer.h"
#include "gateway/kafka/topic_names.h"
#include "gateway/status/own_receipts.h"
#include "gateway/status/receipt_signature.h"

namespace xoev {

ReceiptsTracker::ReceiptsTracker(StatusStore& store, crypto::KeyRing trusted)
    : store_(store), trusted_(std::move(trusted)) {
  OwnReceipts::of_this_process().start_remembering();  // someone here reads them back now
}

ReceiptsTracker::ReceiptsTracker(KafkaConnection connection, StatusStore& store, crypto::KeyRing trusted)
    : ReceiptsTracker(store, std::move(trusted)) {
  service_ = std::make_unique<ConsumerService>(
      "receipts",
      [connection = std::move(connection)]() -> Result<std::unique_ptr<RecordSource>> {
        auto reader = Consumer::create_reader(connection, std::string(names::kReceiptsTopic), std::chrono::seconds(5));
        if (!reader) return reader.problem();
        return std::unique_ptr<RecordSource>(std::move(reader).value());
      },
      [this](RecordSource& receipts, std::stop_token stop) { run(receipts, std::move(stop)); });
}

// A receipt this process signed comes back byte for byte (own_receipts.h): applied
// without verifying the signature again, as long as the key that signed it is trusted.
Result<Receipt> ReceiptsTracker::recognised_or_verified(const Envelope& env) const {
  if (auto signer = OwnReceipts::of_this_process().take(env.key, env.value)) {
    const crypto::Jwk* trusted = trusted_.find(signer->kid());
    if (trusted && EVP_PKEY_eq(trusted->pkey(), signer->pkey()) == 1) {
      auto receipt = Receipt::from_json(env.value);
      if (receipt && receipt->message_id == env.key) return receipt;
    }
  }
  return verify_receipt(env, trusted_);
}

void ReceiptsTracker::run(RecordSource& receipts, std::stop_token stop) {
  while (!stop.stop_requested()) {
    auto polled = receipts.poll(std::chrono::milliseconds(200));
    if (!polled) continue;
    if (!polled->has_value()) {
      if (!caught_up_) {
        auto c = receipts.caught_up();
        if (c && *c) {
          caught_up_ = true;
          spdlog::info("receipts: caught up ({} receipts, {} messages known)", applied_.load(), store_.size());
        }
      }
      continue;
    }
    const ConsumedRecord& record = **polled;
    auto receipt = recognised_or_verified(record.env);
    if (!receipt) {
      ++unverified_;
      // The key is whatever the writer chose: escaped, never trusted.
      spdlog::warn("receipts: not applying an unverified record at {}/{}/{} (key \"{}\"): {}", names::kReceiptsTopic,
                   record.partition, record.offset, printable(record.env.key), receipt.problem().detail);
      continue;
    }
    store_.apply(*receipt);
    ++applied_;
    std::lock_guard lock(hook_mu_);
    if (hook_) hook_(*receipt);
  }
}

}  // namespace xoev
