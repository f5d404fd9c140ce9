// Creating topics on a cluster: one CreateTopics request through librdkafka's Admin
// API (`xoevgate topics`), and "make sure these exist" for a reload that adds a
// destination. "Already exists" is success everywhere: both may run again at will.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "gateway/core/result.h"
#include "gateway/kafka/kafka_connection.h"

namespace xoev {

struct TopicSpec {
  std::string name;
  int partitions = 0;
  int replication = 0;
  std::vector<std::pair<std::string, std::string>> settings;  // topic configs, e.g. min.insync.replicas
};

struct TopicOutcome {
  enum class Kind { created, exists, refused };
  std::string name;
  Kind kind = Kind::refused;
  std::string reason;        // why it was refused, with the error's name
  bool unreachable = false;  // refused because the cluster did not answer in time
};

// "NAME (partitions P, replication R, k=v, ...)"
std::string describe(const TopicSpec& spec);

// One CreateTopics request for all specs; one outcome per topic. A Problem only when
// the request as a whole failed (bad spec, no answer, client not created).
Result<std::vector<TopicOutcome>> create_topics(const KafkaConnection& connection, const std::vector<TopicSpec>& specs,
                                                std::chrono::milliseconds timeout);

// The cluster's id (librdkafka's mock cluster: "mockCluster…", see
// BacklogMonitor::is_mock_cluster_id); a Problem when it does not answer in time.
Result<std::string> kafka_cluster_id(const KafkaConnection& connection, std::chrono::milliseconds timeout);

// Every named topic exists afterwards, or a Problem says which and why. Real clusters:
// CreateTopics with `partitions` and a replication of min(3, brokers) (min.insync.replicas
// min(2, replication)). librdkafka's mock cluster (`xoevgate dev-kafka`) names no
// controller and so takes no CreateTopics; it creates a topic when a Metadata request
// names it, which is what happens there. Either way the cluster's metadata is read
// back: a topic missing from it refuses.
Status ensure_topics_exist(const KafkaConnection& connection, const std::vector<std::string>& topics, int partitions,
                           std::chrono::milliseconds timeout);

}  // namespace xoev
