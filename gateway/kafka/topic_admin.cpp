#include "gateway/kafka/topic_admin.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <set>

#include "gateway/kafka/backlog_monitor.h"
#include "gateway/kafka/kafka_problem.h"

namespace xoev {
namespace {

struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* t) const { rd_kafka_NewTopic_destroy(t); }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};
using Metadata = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

int milliseconds(std::chrono::milliseconds t) { return static_cast<int>(std::min<long long>(t.count(), 1'000'000'000)); }

Result<RdKafkaHandle> admin_client(const KafkaConnection& connection) {
  auto conf = make_rdkafka_conf(connection);
  if (!conf) return conf.problem();
  return make_rdkafka_handle(RD_KAFKA_PRODUCER, std::move(conf).value());
}

// The cluster's id through client `rk`, or broker_unavailable after `timeout`.
Result<std::string> cluster_id_of(rd_kafka_t* rk, const std::string& bootstrap, std::chrono::milliseconds timeout) {
  const int timeout_ms = milliseconds(timeout);
  char* raw_id = rd_kafka_clusterid(rk, timeout_ms);
  const std::string id = raw_id ? raw_id : "";
  if (raw_id) rd_kafka_mem_free(rk, raw_id);
  if (id.empty())
    return Problem::make(ProblemKind::broker_unavailable,
                         "Kafka at " + bootstrap + " did not answer within " + std::to_string(timeout_ms / 1000) + "s");
  return id;
}

Result<std::vector<TopicOutcome>> create_with(rd_kafka_t* rk, const std::string& bootstrap,
                                              const std::vector<TopicSpec>& specs, std::chrono::milliseconds timeout) {
  std::vector<std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter>> topics;
  char errstr[512];
  for (const auto& spec : specs) {
    std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter> topic(
        rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions, spec.replication, errstr, sizeof errstr));
    if (!topic) return Problem::make(ProblemKind::usage, spec.name + ": " + errstr);
    for (const auto& [key, value] : spec.settings)
      if (auto err = rd_kafka_NewTopic_set_config(topic.get(), key.c_str(), value.c_str()); err)
        return kafka_problem(ProblemKind::usage, spec.name + " " + key, err);
    topics.push_back(std::move(topic));
  }
  std::vector<rd_kafka_NewTopic_t*> raw;
  for (const auto& t : topics) raw.push_back(t.get());

  const int timeout_ms = milliseconds(timeout);
  std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter> options(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS));
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, errstr, sizeof errstr) ||
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, errstr, sizeof errstr))
    return Problem::make(ProblemKind::internal, std::string("admin options: ") + errstr);
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue(rd_kafka_queue_new(rk));
  rd_kafka_CreateTopics(rk, raw.data(), raw.size(), options.get(), queue.get());

  // The request timeout bounds the answer; the margin covers connecting first.
  std::unique_ptr<rd_kafka_event_t, EventDeleter> event(rd_kafka_queue_poll(queue.get(), timeout_ms + 5000));
  if (!event)
    return Problem::make(ProblemKind::io_error, "no answer from Kafka at " + bootstrap + " within " +
                                                    std::to_string(timeout_ms / 1000) + "s");
  if (rd_kafka_event_error(event.get()))
    return Problem::make(ProblemKind::io_error,
                         "CreateTopics at " + bootstrap + ": " + rd_kafka_event_error_string(event.get()));
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
  std::vector<TopicOutcome> out;
  for (size_t i = 0; i < count; ++i) {
    TopicOutcome o;
    o.name = rd_kafka_topic_result_name(results[i]);
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      o.kind = TopicOutcome::Kind::created;
    } else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      o.kind = TopicOutcome::Kind::exists;  // its settings are left as they are
    } else {
      const char* why = rd_kafka_topic_result_error_string(results[i]);
      o.reason = std::string(why ? why : rd_kafka_err2str(err)) + " (" + rd_kafka_err2name(err) + ")";
      o.unreachable = err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT;
    }
    out.push_back(std::move(o));
  }
  return out;
}

// The topics the cluster's metadata lists without error; asking names them to a mock
// cluster, which creates them.
Result<std::set<std::string>> topics_present(rd_kafka_t* rk, const std::vector<std::string>& names, int timeout_ms) {
  std::set<std::string> present;
  for (const auto& name : names) {
    std::unique_ptr<rd_kafka_topic_t, TopicDeleter> topic(rd_kafka_topic_new(rk, name.c_str(), nullptr));
    if (!topic) return Problem::make(ProblemKind::internal, "topic handle for " + name);
    const rd_kafka_metadata_t* raw = nullptr;
    if (auto err = rd_kafka_metadata(rk, 0, topic.get(), &raw, timeout_ms); err)
      return kafka_problem(ProblemKind::io_error, "metadata for topic " + name, err);
    Metadata md(raw);
    for (int i = 0; i < md->topic_cnt; ++i)
      if (md->topics[i].topic == name && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topics[i].partition_cnt > 0)
        present.insert(name);
  }
  return present;
}

}  // namespace

std::string describe(const TopicSpec& t) {
  std::string out = t.name + " (partitions " + std::to_string(t.partitions) + ", replication " +
                    std::to_string(t.replication);
  for (const auto& [k, v] : t.settings) out += ", " + k + "=" + v;
  return out + ")";
}

Result<std::vector<TopicOutcome>> create_topics(const KafkaConnection& connection, const std::vector<TopicSpec>& specs,
                                                std::chrono::milliseconds timeout) {
  auto client = admin_client(connection);
  if (!client) return client.problem();
  return create_with(client->get(), connection.bootstrap, specs, timeout);
}

Result<std::string> kafka_cluster_id(const KafkaConnection& connection, std::chrono::milliseconds timeout) {
  auto client = admin_client(connection);
  if (!client) return client.problem();
  return cluster_id_of(client->get(), connection.bootstrap, timeout);
}

Status ensure_topics_exist(const KafkaConnection& connection, const std::vector<std::string>& topics, int partitions,
                           std::chrono::milliseconds timeout) {
  if (topics.empty()) return ok_status();
  auto client = admin_client(connection);
  if (!client) return client.problem();
  rd_kafka_t* rk = client->get();
  const int timeout_ms = milliseconds(timeout);
  auto cluster_id = cluster_id_of(rk, connection.bootstrap, timeout);
  if (!cluster_id) return cluster_id.problem();
  if (!BacklogMonitor::is_mock_cluster_id(*cluster_id)) {
    const rd_kafka_metadata_t* raw = nullptr;
    if (auto err = rd_kafka_metadata(rk, 0, nullptr, &raw, timeout_ms); err)
      return kafka_problem(ProblemKind::broker_unavailable, "metadata of " + connection.bootstrap, err);
    const int brokers = Metadata(raw)->broker_cnt;
    const int replication = std::clamp(brokers, 1, 3);
    std::vector<TopicSpec> specs;
    for (const auto& name : topics)
      specs.push_back({name, partitions, replication, {{"min.insync.replicas", std::to_string(std::min(2, replication))}}});
    auto outcomes = create_with(rk, connection.bootstrap, specs, timeout);
    if (!outcomes) return outcomes.problem();
    for (const auto& o : *outcomes) {
      if (o.kind == TopicOutcome::Kind::refused)
        return Problem::make(ProblemKind::broker_unavailable, "topic " + o.name + " could not be created: " + o.reason);
      if (o.kind == TopicOutcome::Kind::created) spdlog::info("created topic {} ({} partitions, replication {})", o.name,
                                                              partitions, replication);
    }
  }
  auto present = topics_present(rk, topics, timeout_ms);
  if (!present) return present.problem();
  for (const auto& name : topics)
    if (!present->count(name))
      return Problem::make(ProblemKind::broker_unavailable,
                           "topic " + name + " is not in the metadata of " + connection.bootstrap + " after creating it");
  return ok_status();
}

}  // namespace xoev
