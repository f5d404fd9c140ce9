#include "gateway/runtime/kafka_runtime.h"

#include <spdlog/spdlog.h>

#include "gateway/kafka/topic_names.h"

namespace xoev {

std::vector<std::string> gateway_topics(const Config& config) {
  std::vector<std::string> topics{std::string(names::kReceiptsTopic)};
  for (const auto& d : config.destinations) {
    topics.push_back(d.topic);
    topics.push_back(names::dlq_topic(d.id));
  }
  return topics;
}

Result<KafkaRuntime> start_kafka(const Config& config) {
  KafkaRuntime rt;
  if (!config.kafka.embedded()) {
    rt.connection = {config.kafka.bootstrap, config.kafka.properties};
    return rt;
  }
  auto cluster = EmbeddedCluster::start(config.kafka.embedded_brokers, config.kafka.partitions);
  if (!cluster) return cluster.problem();
  rt.embedded = std::move(cluster).value();
  for (const auto& t : gateway_topics(config))
    if (auto s = rt.embedded->create_topic(t); !s) return s.problem();
  rt.connection = rt.embedded->connection();
  for (const auto& [k, v] : config.kafka.properties) rt.connection.properties[k] = v;
  spdlog::info("embedded Kafka at {}", rt.connection.bootstrap);
  return rt;
}

}  // namespace xoev
