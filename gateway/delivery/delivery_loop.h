// The consumer side of one destination: consume → verify + decrypt → (transform) →
// adapter → receipt → commit. At-least-once consumption; the adapters are
// idempotent per message id, so the Fachverfahren sees each message once.
//
// Ordering: records of a partition are handled one after another, and a record that
// must be retried blocks its partition until it is delivered or dead-lettered, so
// messages with the same key are never reordered and memory stays bounded however
// slow the target is.
//
// A record's offset is committed only after its outcome is durable: the delivered
// file/HTTP call happened, or the dead letter was acknowledged by the broker.
#pragma once

#include <atomic>
#include <memory>
#include <random>
#include <string>

#include "adapters/outbound/outbound_adapter.h"
#include "gateway/config/config.h"
#include "gateway/crypto/key_ring.h"
#include "gateway/delivery/delivered_ledger.h"
#include "gateway/ingest/receipt_publisher.h"
#include "gateway/kafka/consumer.h"
#include "gateway/kafka/kafka_connection.h"
#include "gateway/kafka/producer.h"

namespace xoev {

std::string dlq_topic(const std::string& destination_id);
std::string consumer_group(const std::string& destination_id);

class DeliveryLoop {
 public:
  struct Counters {
    std::atomic<uint64_t> delivered{0}, retried{0}, rejected{0}, dead_lettered{0}, duplicates{0};
  };

  // `producer` carries receipts and dead letters; it must outlive the loop.
  static Result<std::unique_ptr<DeliveryLoop>> create(const KafkaConnection& connection, const Config& config,
                                                      const DestinationSection& destination, Producer& producer);

  // Blocks until `stop` becomes true; returns a Problem only if it cannot start.
  Status run(const std::atomic<bool>& stop);
  const Counters& counters() const { return counters_; }
  const std::string& destination_id() const { return destination_.id; }

 private:
  DeliveryLoop() = default;
  enum class Handled { committed, stopped };
  Handled handle(const ConsumedRecord& record, const std::atomic<bool>& stop);
  // Sends the record to the DLQ and waits for the broker (returns false if it could not).
  bool dead_letter(const ConsumedRecord& record, const std::string& reason, int attempts);
  bool publish_and_wait(const Receipt& r);
  std::chrono::milliseconds backoff(int attempt);

  KafkaConnection connection_;
  DestinationSection destination_;
  crypto::KeyRing trusted_;
  crypto::KeyRing decryption_;
  OutboundAdapterPtr adapter_;
  std::unique_ptr<DeliveredLedger> ledger_;
  std::unique_ptr<Consumer> consumer_;
  Producer* producer_ = nullptr;
  std::unique_ptr<ReceiptPublisher> receipts_;
  Counters counters_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace xoev
