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

std::vector<BacklogMonitor::Watched> watched_topics(const DestinationSection& d) {
  return {{d.topic, names::consumer_group(d.id)}, {names::dlq_topic(d.id), names::consumer_group(d.id)}};
}

std::vector<BacklogMonitor::Watched> watched_topics(const Config& config) {
  std::vector<BacklogMonitor::Watched> watched;
  for (const auto& d : config.destinations)
    for (auto& w : watched_topics(d)) watched.push_back(std::move(w));
  return watched;
}

std::unique_ptr<BacklogMonitor> start_backlog_monitor(const Config& config, const KafkaConnection& connection,
                                                      std::vector<BacklogMonitor::Watched> watched) {
  const size_t configured = config.kafka.backlog_bytes_per_partition;
  const bool always = configured > 0 || config.kafka.embedded();
  const size_t budget = configured > 0 ? configured : BacklogMonitor::mock_cluster_budget_bytes;
  if (always)
    spdlog::warn("back-pressure: at most {} undelivered bytes per partition are accepted; beyond that POST answers "
                 "503 backlog-full until the deliverers catch up (the mock cluster drops records past ~5 MB)",
                 budget);
  return std::make_unique<BacklogMonitor>(
      connection, std::move(watched), budget, std::chrono::milliseconds(250), 64 * 1024,
      always ? BacklogMonitor::Applies::always : BacklogMonitor::Applies::if_cluster_drops_records);
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
