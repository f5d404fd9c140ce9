#include "gateway/runtime/deliverer_pool.h"

#include <spdlog/spdlog.h>

namespace xoev {

KafkaConnection delivery_connection(KafkaConnection connection) {
  connection.properties.try_emplace("linger.ms", "0");
  return connection;
}

Status DelivererPool::add(const KafkaConnection& connection, const Config& config, const DestinationSection& destination,
                          Producer& producer) {
  auto loop = DeliveryLoop::create(connection, config, destination, producer);
  if (!loop) return loop.problem();
  DeliveryLoop* raw = loop->get();
  loops_.push_back(std::move(loop).value());
  const std::string id = destination.id;
  threads_.emplace_back([this, raw, id] {
    if (auto s = raw->run(stop_); !s) spdlog::error("deliverer '{}' stopped: {}", id, s.problem().one_line());
  });
  return ok_status();
}

void DelivererPool::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace xoev
