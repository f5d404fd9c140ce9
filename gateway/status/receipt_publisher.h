// Publishes receipts to xoev.receipts. The delivery report decides: callers that
// must know the receipt is durable (the delivery loop, before committing an
// offset) pass a callback; the gateway's "accepted" receipt is fire-and-log.
#pragma once

#include <functional>

#include "gateway/kafka/record_sink.h"
#include "gateway/status/receipt.h"

namespace xoev {

class ReceiptPublisher {
 public:
  explicit ReceiptPublisher(RecordSink& sink) : sink_(sink) {}
  // `done` runs exactly once, with ok only once the broker stored the receipt.
  void publish(const Receipt& r, std::function<void(Status)> done = {});

 private:
  RecordSink& sink_;
};

}  // namespace xoev
