#include "gateway/kafka/embedded_cluster.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "gateway/kafka/kafka_problem.h"

namespace xoev {

Result<std::unique_ptr<EmbeddedCluster>> EmbeddedCluster::start(int brokers, int default_partitions) {
  if (brokers < 1 || brokers > 32)
    return Problem::make(ProblemKind::config_invalid, "embedded kafka: brokers must be 1..32, not " + std::to_string(brokers));
  if (default_partitions < 1 || default_partitions > 1000)
    return Problem::make(ProblemKind::config_invalid,
                         "embedded kafka: partitions must be 1..1000, not " + std::to_string(default_partitions));

  // test.mock.num.brokers makes this client handle create and own the mock cluster
  // (destroyed with the handle) and point its own bootstrap list at it.
  RdKafkaConf conf(rd_kafka_conf_new());
  route_rdkafka_logs(conf.get());
  std::array<char, 256> err{};
  for (const auto& [name, value] : KafkaSettings{{"client.id", "xoevgate-embedded-kafka"},
                                                  {"test.mock.num.brokers", std::to_string(brokers)}})
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), err.data(), err.size()) != RD_KAFKA_CONF_OK)
      return Problem::make(ProblemKind::internal, std::string("embedded kafka: ") + err.data());
  auto owner = make_rdkafka_handle(RD_KAFKA_PRODUCER, std::move(conf));
  if (!owner) return std::move(owner).problem();

  std::unique_ptr<EmbeddedCluster> self(new EmbeddedCluster());
  self->owner_ = std::move(owner).value();
  self->cluster_ = rd_kafka_handle_mock_cluster(self->owner_.get());
  if (!self->cluster_)
    return Problem::make(ProblemKind::io_error, "embedded kafka: could not start the mock cluster (no free loopback ports?)");
  self->bootstrap_ = rd_kafka_mock_cluster_bootstraps(self->cluster_);
  self->brokers_ = brokers;
  self->default_partitions_ = default_partitions;

  spdlog::warn("EMBEDDED KAFKA at {} ({} brokers): for development and tests only. It keeps NOTHING on disk — "
               "every record is lost when this process ends — and keeps only ~5 MB per partition, silently "
               "dropping older records beyond that. Use a real Kafka cluster in production.",
               self->bootstrap_, brokers);
  return self;
}

// The cluster belongs to owner_ and goes with it.
EmbeddedCluster::~EmbeddedCluster() = default;

Status EmbeddedCluster::create_topic(const std::string& topic, int partitions) {
  if (topic.empty() || partitions < 1)
    return Problem::make(ProblemKind::bad_request, "embedded kafka: a topic needs a name and at least one partition");
  const rd_kafka_resp_err_t err =
      rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, std::min(3, brokers_));
  if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return ok_status();
  if (err) return kafka_problem(ProblemKind::internal, "embedded kafka: create topic " + topic, err);
  spdlog::info("embedded kafka: created topic {} with {} partitions", topic, partitions);
  return ok_status();
}

Status EmbeddedCluster::set_broker_up(int broker_id, bool up) {
  if (broker_id < 1 || broker_id > brokers_)
    return Problem::make(ProblemKind::bad_request, "embedded kafka: no broker " + std::to_string(broker_id) +
                                                       " (brokers are 1.." + std::to_string(brokers_) + ")");
  const rd_kafka_resp_err_t err = up ? rd_kafka_mock_broker_set_up(cluster_, broker_id)
                                     : rd_kafka_mock_broker_set_down(cluster_, broker_id);
  if (err) return kafka_problem(ProblemKind::internal, "embedded kafka: broker " + std::to_string(broker_id), err);
  spdlog::warn("embedded kafka: broker {} is now {}", broker_id, up ? "up" : "DOWN");
  return ok_status();
}

}  // namespace xoev
