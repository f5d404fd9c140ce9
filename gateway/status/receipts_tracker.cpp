#include "gateway/status/receipts_tracker.h"

#include <spdlog/spdlog.h>

#include "gateway/kafka/consumer.h"

namespace xoev {

ReceiptsTracker::ReceiptsTracker(KafkaConnection connection, StatusStore& store)
    : connection_(std::move(connection)), store_(store) {}

ReceiptsTracker::~ReceiptsTracker() { stop(); }

void ReceiptsTracker::start() { thread_ = std::thread([this] { run(); }); }

void ReceiptsTracker::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ReceiptsTracker::run() {
  std::unique_ptr<Consumer> reader;
  while (!stop_ && !reader) {
    auto r = Consumer::create_reader(connection_, std::string(kReceiptsTopic), std::chrono::seconds(5));
    if (r) reader = std::move(r).value();
    else {
      spdlog::warn("receipts: cannot read {} yet: {}", kReceiptsTopic, r.problem().detail);
      for (int i = 0; i < 20 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  while (!stop_) {
    auto polled = reader->poll(std::chrono::milliseconds(200));
    if (!polled) continue;
    if (!polled->has_value()) {
      if (!caught_up_) {
        auto c = reader->caught_up(std::chrono::seconds(2));
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
