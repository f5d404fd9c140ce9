// Runs delivery loops, each as its own consumer service: the in-process adapters of
// `serve`, or the single destination of `xoevgate deliver`.
#pragma once

#include <memory>
#include <vector>

#include "gateway/delivery/delivery_loop.h"
#include "gateway/kafka/consumer_service.h"
#include "gateway/kafka/kafka_connection.h"

namespace xoev {

// The connection a deliverer's producer uses: linger.ms 0 unless the operator set it,
// since every receipt is awaited before the offset moves on.
KafkaConnection delivery_connection(KafkaConnection connection);

class DelivererPool {
 public:
  ~DelivererPool() { stop(); }
  // Starts consuming the destination's topic at once; `sink` (receipts, dead letters)
  // must stay usable until stop() returned.
  // `dead_letter_backlog` (may be null) watches the destination's DLQ topic; `decisions`
  // (may be empty) hears each final decision, for the audit log.
  Status add(const KafkaConnection& connection, const Config& config, const DestinationSection& destination,
             RecordSink& sink, BacklogMonitor* dead_letter_backlog = nullptr,
             DeliveryLoop::DecisionObserver decisions = {});
  // Every adapter re-reads its certificates; the first failure is reported (the
  // adapters that failed keep their old ones).
  Status reload_tls();
  // Stops every loop (each finishes or abandons its current record uncommitted).
  // The loops stay, for their counters. Idempotent.
  void stop();
  const std::vector<std::unique_ptr<DeliveryLoop>>& loops() const { return loops_; }

 private:
  std::vector<std::unique_ptr<DeliveryLoop>> loops_;
  std::vector<std::unique_ptr<ConsumerService>> services_;  // after loops_: they run the loops
};

}  // namespace xoev
