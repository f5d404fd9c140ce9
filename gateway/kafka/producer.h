// Idempotent producer (enable.idempotence=true, acks=all). The delivery report is the
// only truth about whether a record is durable: each produce() ends in exactly one
// callback, from this producer's own poll thread (or at once, on the caller's thread,
// when librdkafka refuses the record up front, e.g. its queue is full).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <shared_mutex>
#include <thread>

#include "gateway/core/result.h"
#include "gateway/kafka/envelope.h"
#include "gateway/kafka/kafka_connection.h"
#include "gateway/kafka/record_sink.h"

namespace xoev {

class Producer final : public RecordSink {
 public:
  // delivery_timeout becomes message.timeout.ms: no delivery report later than that.
  static Result<std::unique_ptr<Producer>> create(const KafkaConnection& connection, const std::string& client_id,
                                                  std::chrono::milliseconds delivery_timeout);
  ~Producer() override;  // close()

  // Flushes (bounded by min(delivery timeout, 10 s)), then fails whatever is left with
  // broker_unavailable, so every callback has run when close() returns; produce()
  // refuses from then on (its callback runs at once). Idempotent. The owner calls it
  // while everything the callbacks reach is still alive.
  void close();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Topic, key, value and headers come from `env`. Never blocks: a full queue or any
  // other refusal calls `cb` at once with Problem broker_unavailable.
  void produce(Envelope env, AckCallback cb) override;

  // Waits until every record produced so far has its delivery report.
  Status flush(std::chrono::milliseconds timeout);

  // A metadata round-trip to the cluster (for /readyz); also fails once the idempotent
  // producer hit a fatal error (it then needs to be recreated).
  Status reachable(std::chrono::milliseconds timeout) const;

 private:
  Producer() = default;
  void poll_loop();

  RdKafkaHandle rk_;
  std::chrono::milliseconds delivery_timeout_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> close_started_{false};
  std::shared_mutex refuse_mu_;  // produce() holds it shared, so none slips past close()'s purge
  bool refuse_ = false;
  std::thread poller_;
};

}  // namespace xoev
