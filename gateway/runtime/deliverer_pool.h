// Runs delivery loops on their own threads: the in-process adapters of `serve`, or
// the single destination of `xoevgate deliver`.
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "gateway/delivery/delivery_loop.h"

namespace xoev {

// The connection a deliverer's producer uses: linger.ms 0 unless the operator set it,
// since every receipt is awaited before the offset moves on.
KafkaConnection delivery_connection(KafkaConnection connection);

class DelivererPool {
 public:
  ~DelivererPool() { stop(); }
  Status add(const KafkaConnection& connection, const Config& config, const DestinationSection& destination,
             Producer& producer);
  void stop();
  const std::vector<std::unique_ptr<DeliveryLoop>>& loops() const { return loops_; }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<DeliveryLoop>> loops_;
  std::vector<std::thread> threads_;
};

}  // namespace xoev
