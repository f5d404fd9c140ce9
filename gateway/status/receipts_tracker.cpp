#include "gateway/status/receipts_tracker.h"

#include <spdlog/spdlog.h>

#include "gateway/kafka/consumer.h"
#include "gateway/kafka/topic_names.h"

namespace xoev {

ReceiptsTracker::ReceiptsTracker(KafkaConnection connection, StatusStore& store) : store_(store) {
  service_ = std::make_unique<ConsumerService>(
      "receipts",
      [connection = std::move(connection)]() -> Result<std::unique_ptr<RecordSource>> {
        auto reader = Consumer::create_reader(connection, std::string(names::kReceiptsTopic), std::chrono::seconds(5));
        if (!reader) return reader.problem();
        return std::unique_ptr<RecordSource>(std::move(reader).value());
      },
      [this](RecordSource& receipts, std::stop_token stop) { run(receipts, std::move(stop)); });
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
    auto receipt = Receipt::from_json((*polled)->env.value);
    if (!receipt) {
      spdlog::warn("receipts: skipping a record that is no receipt at offset {}", (*polled)->offset);
      continue;
    }
    store_.apply(*receipt);
    ++applied_;
  }
}

}  // namespace xoev
