// librdkafka's mock cluster, in-process: a Kafka-protocol cluster for development and
// tests with nothing to install. It keeps everything in memory (nothing on disk) and
// keeps only ~5 MB (and at most 100,000 batches) per partition, silently dropping the
// oldest records beyond that — the BacklogMonitor keeps the gateway below that limit.
// Clients see its cluster id "mockCluster…" (BacklogMonitor::is_mock_cluster_id).
//
// Topics (librdkafka 2.0.x mock, see README "Embedded Kafka"):
//   - auto-created by ANY Metadata request naming an unknown topic — a producer's, a
//     subscribing consumer's, even one asking allow.auto.create.topics=false (the mock
//     speaks Metadata v0-2, which has no such flag) — always with 4 partitions (fixed in
//     the mock, not settable through its public API); so first produce / subscribe from
//     any process just works;
//   - create_topic() / `dev-kafka --topic NAME[:N]` create a topic up front with a
//     chosen partition count (default_partitions) — do it before any client looks it up.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <memory>
#include <string>

#include "gateway/core/result.h"
#include "gateway/kafka/kafka_connection.h"

namespace xoev {

class EmbeddedCluster {
 public:
  static Result<std::unique_ptr<EmbeddedCluster>> start(int brokers = 3, int default_partitions = 3);
  ~EmbeddedCluster();
  EmbeddedCluster(const EmbeddedCluster&) = delete;
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;

  // "127.0.0.1:port,127.0.0.1:port,..." — brokers listen on loopback only.
  const std::string& bootstrap() const { return bootstrap_; }
  KafkaConnection connection() const { return {bootstrap_, {}}; }
  int brokers() const { return brokers_; }
  int default_partitions() const { return default_partitions_; }

  // Creates `topic` with `partitions` (replication factor min(3, brokers)).
  // A topic that already exists is fine (its partition count stays as it is).
  Status create_topic(const std::string& topic, int partitions);
  Status create_topic(const std::string& topic) { return create_topic(topic, default_partitions_); }

  // Broker ids are 1..brokers(). A broker that is down refuses and drops connections;
  // partitions it leads are unavailable until it is up again (no leader change).
  Status set_broker_up(int broker_id, bool up);

 private:
  EmbeddedCluster() = default;
  RdKafkaHandle owner_;                         // owns the mock cluster
  rd_kafka_mock_cluster_t* cluster_ = nullptr;  // owned by owner_
  std::string bootstrap_;
  int brokers_ = 0;
  int default_partitions_ = 0;
};

}  // namespace xoev
