// Publishes receipts to xoev.receipts, each signed by this publisher's key (see
// receipt_signature.h). The delivery report decides: callers that must know the
// receipt is durable (the delivery loop, before committing an offset) pass a
// callback; the gateway's "accepted" receipt is fire-and-log.
#pragma once

#include <functional>
#include <memory>

#include "gateway/crypto/jwk.h"
#include "gateway/kafka/record_sink.h"
#include "gateway/status/receipt.h"

namespace xoev {

class ReceiptPublisher {
 public:
  // `signing_key`: the gateway's (accepted) or the deliverer's own (every later step).
  ReceiptPublisher(RecordSink& sink, crypto::Jwk signing_key)
      : sink_(sink),
        signing_key_(std::move(signing_key)),
        public_key_(std::make_shared<const crypto::Jwk>(signing_key_.public_key())) {}
  // `done` runs exactly once, with ok only once the broker stored the receipt.
  void publish(const Receipt& r, std::function<void(Status)> done = {});

 private:
  RecordSink& sink_;
  const crypto::Jwk signing_key_;
  const std::shared_ptr<const crypto::Jwk> public_key_;  // for OwnReceipts
};

}  // namespace xoev
