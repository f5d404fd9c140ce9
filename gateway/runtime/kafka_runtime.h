// Where this process finds Kafka: the configured cluster, or — for
// `bootstrap: embedded` — a mock cluster started inside this process, with the
// gateway's topics created up front with the configured partition count.
#pragma once

#include <memory>

#include "gateway/config/config.h"
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

}  // namespace xoev
