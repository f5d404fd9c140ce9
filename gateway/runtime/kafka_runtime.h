// Where this process finds Kafka: the configured cluster, or — for
// `bootstrap: embedded` — a mock cluster started inside this process, with the
// gateway's topics created up front with the configured partition count.
#pragma once

#include <memory>

#include "gateway/config/config.h"
#include "gateway/kafka/backlog_monitor.h"
#include "gateway/kafka/embedded_cluster.h"
#include "gateway/kafka/kafka_connection.h"

namespace xoev {

struct KafkaRuntime {
  std::unique_ptr<EmbeddedCluster> embedded;  // null for a real cluster
  KafkaConnection connection;
};

Result<KafkaRuntime> start_kafka(const Config& config);

// Every topic the gateway uses for a config: destination topics, their DLQs, receipts.
std::vector<std::string> gateway_topics(const Config& config);

// What back-pressure watches: each destination topic (undelivered = past its
// deliverer group's committed offset) and its dead-letter topic (read by no group, so
// all of it counts: a dead letter is an accepted message and must stay visible).
std::vector<BacklogMonitor::Watched> watched_topics(const Config& config);
std::vector<BacklogMonitor::Watched> watched_topics(const DestinationSection& destination);

// The back-pressure for a cluster that drops records (CONTRACTS: never accept what the
// cluster would drop): kafka.backlog_bytes_per_partition when set (always applied);
// otherwise the mock cluster's budget — always when embedded, and for another
// bootstrap once the monitor identified it as a mock cluster (`xoevgate dev-kafka`).
std::unique_ptr<BacklogMonitor> start_backlog_monitor(const Config& config, const KafkaConnection& connection,
                                                      std::vector<BacklogMonitor::Watched> watched);

}  // namespace xoev
