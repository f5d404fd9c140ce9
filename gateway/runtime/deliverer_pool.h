// Runs delivery loops on their own threads: the in-process adapters of `serve`, or
// the single destination of `xoevgate deliver`.
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "gateway/delivery/delivery_loop.h"

namespace xoev {

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
