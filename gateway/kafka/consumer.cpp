#include "gateway/kafka/consumer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "gateway/kafka/backlog_monitor.h"
#include "gateway/kafka/kafka_problem.h"

namespace xoev {
namespace {

std::string describe(const rd_kafka_topic_partition_list_t* parts) {
  std::string out;
  for (int i = 0; i < parts->cnt; ++i) {
    if (!out.empty()) out += ", ";
    out += std::string(parts->elems[i].topic) + "[" + std::to_string(parts->elems[i].partition) + "]";
  }
  return out.empty() ? "nothing" : out;
}

// Only logs and applies the assignment; at-least-once needs nothing more because
// offsets are committed only for handled records and librdkafka drops the fetched but
// not yet returned records of revoked partitions.
void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void*) {
  const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    spdlog::info("kafka consumer {}: assigned {}", rd_kafka_name(rk), describe(parts));
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, parts))
        spdlog::error("kafka consumer: {}", kafka_problem(ProblemKind::internal, "incremental assign", e).detail);
    } else if (rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts)) {
      spdlog::error("kafka consumer: assign failed: {}", rd_kafka_err2str(e));
    }
    return;
  }
  spdlog::info("kafka consumer {}: revoked {} ({})", rd_kafka_name(rk), describe(parts), rd_kafka_err2name(err));
  if (cooperative) {
    if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, parts))
      spdlog::error("kafka consumer: {}", kafka_problem(ProblemKind::internal, "incremental unassign", e).detail);
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

ConsumedRecord to_record(const rd_kafka_message_t* msg) {
  ConsumedRecord r;
  r.env.topic = rd_kafka_topic_name(msg->rkt);
  if (msg->key) r.env.key.assign(static_cast<const char*>(msg->key), msg->key_len);
  if (msg->payload) r.env.value.assign(static_cast<const char*>(msg->payload), msg->len);
  rd_kafka_headers_t* headers = nullptr;  // still owned by msg
  if (rd_kafka_message_headers(msg, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
      r.env.headers.emplace_back(name, value ? std::string(static_cast<const char*>(value), size) : std::string{});
  }
  r.partition = msg->partition;
  r.offset = msg->offset;
  rd_kafka_timestamp_type_t type{};
  r.timestamp_ms = rd_kafka_message_timestamp(msg, &type);
  return r;
}

}  // namespace

KafkaConnection with_fetch_wait_for_cluster(KafkaConnection connection, std::string_view cluster_id) {
  if (BacklogMonitor::is_mock_cluster_id(cluster_id))
    connection.properties.try_emplace("fetch.wait.max.ms", std::string(kMockClusterFetchWait));
  return connection;
}

Result<std::unique_ptr<Consumer>> Consumer::create(const KafkaConnection& connection, const std::string& group_id,
                                                   const std::vector<std::string>& topics, bool from_beginning) {
  if (group_id.empty()) return Problem::make(ProblemKind::config_invalid, "kafka consumer: empty group id");
  if (topics.empty()) return Problem::make(ProblemKind::config_invalid, "kafka consumer: no topics");
  auto conf = make_rdkafka_conf(connection,
                                {{"allow.auto.create.topics", "true"},
                                 {"client.id", "xoevgate-" + group_id},
                                 // The (pre-Kafka-3.0) 10 s instead of 45 s: a crashed member's
                                 // partitions move on sooner, and the embedded cluster holds a
                                 // group's next join for session.timeout.ms - 1 s after its
                                 // last member left.
                                 {"session.timeout.ms", "10000"},
                                 // librdkafka's mock cluster answers an empty fetch only after
                                 // the full wait, even when records arrive meanwhile: with the
                                 // default 500 ms a paced upload (large messages) crawled at one
                                 // backlog's worth per half second. Real brokers answer as soon
                                 // as data arrives; for them this only adds idle fetches.
                                 {"fetch.wait.max.ms", "20"},
                                 {"reconnect.backoff.max.ms", "1000"}},  // back soon after a broker outage
                                {{"group.id", group_id},
                                 {"enable.auto.commit", "false"},
                                 {"enable.auto.offset.store", "false"},
                                 {"enable.partition.eof", "false"},
                                 {"auto.offset.reset", from_beginning ? "earliest" : "latest"}});
  if (!conf) return std::move(conf).problem();
  rd_kafka_conf_set_rebalance_cb(conf->get(), on_rebalance);
  auto rk = make_rdkafka_handle(RD_KAFKA_CONSUMER, std::move(conf).value());
  if (!rk) return std::move(rk).problem();

  std::unique_ptr<Consumer> self(new Consumer());
  self->rk_ = std::move(rk).value();
  rd_kafka_poll_set_consumer(self->rk_.get());
  PartitionList subscription(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(subscription.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(self->rk_.get(), subscription.get()))
    return kafka_problem(ProblemKind::config_invalid, "kafka consumer: subscribe", err);
  return self;
}

Result<std::unique_ptr<Consumer>> Consumer::create_reader(const KafkaConnection& connection, const std::string& topic,
                                                          std::chrono::milliseconds metadata_timeout) {
  if (topic.empty()) return Problem::make(ProblemKind::config_invalid, "kafka reader: empty topic");
  // librdkafka 2.0 refuses assign() without a group.id: a fresh random one, never
  // joined (no subscribe) and never committed to, so it leaves no trace in the cluster.
  std::random_device random;
  const std::string group_id = "xoevgate-reader-" + std::to_string(random()) + std::to_string(random());
  auto conf = make_rdkafka_conf(connection, {{"allow.auto.create.topics", "true"}, {"client.id", "xoevgate-reader"}},
                                {{"group.id", group_id},
                                 {"enable.auto.commit", "false"},
                                 {"enable.auto.offset.store", "false"},
                                 {"enable.partition.eof", "false"},
                                 {"auto.offset.reset", "earliest"}});
  if (!conf) return std::move(conf).problem();
  auto rk = make_rdkafka_handle(RD_KAFKA_CONSUMER, std::move(conf).value());
  if (!rk) return std::move(rk).problem();

  std::unique_ptr<Consumer> self(new Consumer());
  self->rk_ = std::move(rk).value();
  self->reader_ = true;
  rd_kafka_poll_set_consumer(self->rk_.get());

  // Ask for this one topic (auto-creating it where allowed); a just-created topic may
  // report no partitions or a leader error for a moment, so ask again until the deadline.
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(self->rk_.get(), topic.c_str(), nullptr);
  const auto deadline = std::chrono::steady_clock::now() + metadata_timeout;
  int partitions = 0;
  rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR__TIMED_OUT;
  while (partitions == 0 && std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const rd_kafka_metadata_t* md = nullptr;
    last = rd_kafka_metadata(self->rk_.get(), 0, rkt, &md, static_cast<int>(std::max<long>(1, left.count())));
    if (!last && md->topic_cnt == 1) {
      last = md->topics[0].err;
      if (!last) partitions = md->topics[0].partition_cnt;
    }
    if (md) rd_kafka_metadata_destroy(md);
    if (partitions == 0) rd_kafka_poll(self->rk_.get(), 50);  // brief back-off, serves logs
  }
  rd_kafka_topic_destroy(rkt);
  if (partitions == 0) return kafka_problem(ProblemKind::broker_unavailable, "kafka reader: metadata of " + topic, last);

  PartitionList assignment(rd_kafka_topic_partition_list_new(partitions));
  for (int32_t p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  if (rd_kafka_resp_err_t err = rd_kafka_assign(self->rk_.get(), assignment.get()))
    return kafka_problem(ProblemKind::internal, "kafka reader: assign", err);
  return self;
}

Consumer::~Consumer() { close(); }

void Consumer::close() {
  if (closed_ || !rk_) return;
  closed_ = true;
  if (rd_kafka_resp_err_t err = rd_kafka_consumer_close(rk_.get()))
    spdlog::warn("kafka consumer {}: close: {}", rd_kafka_name(rk_.get()), rd_kafka_err2str(err));
}

Result<std::optional<ConsumedRecord>> Consumer::poll(std::chrono::milliseconds timeout) {
  if (closed_) return Problem::make(ProblemKind::internal, "kafka consumer: poll after close");
  rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk_.get(), static_cast<int>(timeout.count()));
  if (!msg) return std::optional<ConsumedRecord>{};
  std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> owned(msg, rd_kafka_message_destroy);
  if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return std::optional<ConsumedRecord>{};
  if (msg->err) {
    std::string where = msg->rkt ? std::string(" (") + rd_kafka_topic_name(msg->rkt) + ")" : std::string{};
    return kafka_problem(ProblemKind::broker_unavailable, "kafka consumer" + where, msg->err);
  }
  return std::optional<ConsumedRecord>{to_record(msg)};
}

Status Consumer::commit(const ConsumedRecord& record) {
  if (reader_) return Problem::make(ProblemKind::usage, "kafka reader: commits nothing");
  PartitionList offsets(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(offsets.get(), record.env.topic.c_str(), record.partition)->offset =
      record.offset + 1;
  if (rd_kafka_resp_err_t err = rd_kafka_commit(rk_.get(), offsets.get(), 0))
    return kafka_problem(ProblemKind::broker_unavailable,
                         "kafka commit " + record.env.topic + "[" + std::to_string(record.partition) + "]@" +
                             std::to_string(record.offset + 1),
                         err);
  if (rd_kafka_resp_err_t err = offsets->elems[0].err)
    return kafka_problem(ProblemKind::broker_unavailable, "kafka commit " + record.env.topic, err);
  committed_[{record.env.topic, record.partition}] = record.offset + 1;
  return ok_status();
}

std::vector<PartitionLag> Consumer::lag() {
  if (reader_ || closed_) return {};
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(rk_.get(), &raw)) return {};
  PartitionList parts(raw);
  // Committed offsets this consumer has not committed itself (newly assigned
  // partitions): asked in one request, at most 500 ms, and remembered.
  PartitionList unknown(rd_kafka_topic_partition_list_new(parts->cnt > 0 ? parts->cnt : 1));
  for (int i = 0; i < parts->cnt; ++i)
    if (!committed_.count({parts->elems[i].topic, parts->elems[i].partition}))
      rd_kafka_topic_partition_list_add(unknown.get(), parts->elems[i].topic, parts->elems[i].partition);
  if (unknown->cnt > 0 && !rd_kafka_committed(rk_.get(), unknown.get(), 500))
    for (int i = 0; i < unknown->cnt; ++i) {
      const auto& tp = unknown->elems[i];
      // No committed offset (-1001): the group starts at the beginning of the partition.
      if (!tp.err) committed_[{tp.topic, tp.partition}] = tp.offset >= 0 ? tp.offset : 0;
    }
  std::map<std::pair<std::string, int32_t>, int64_t> assigned;  // forget partitions no longer ours
  std::vector<PartitionLag> out;
  for (int i = 0; i < parts->cnt; ++i) {
    const auto& tp = parts->elems[i];
    const auto it = committed_.find({tp.topic, tp.partition});
    if (it == committed_.end()) continue;
    assigned.insert(*it);
    PartitionLag l{tp.topic, tp.partition, it->second, -1};
    int64_t low = RD_KAFKA_OFFSET_INVALID;
    // The high watermark of the last fetch response: never a request.
    if (rd_kafka_get_watermark_offsets(rk_.get(), tp.topic, tp.partition, &low, &l.high) || l.high < 0) continue;
    if (low > l.committed) l.committed = low;  // retention removed what was never handled
    out.push_back(std::move(l));
  }
  committed_ = std::move(assigned);
  return out;
}

Status Consumer::seek(const ConsumedRecord& record) {
  PartitionList at(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(at.get(), record.env.topic.c_str(), record.partition)->offset = record.offset;
  if (rd_kafka_error_t* error = rd_kafka_seek_partitions(rk_.get(), at.get(), 5000))
    return kafka_problem(ProblemKind::broker_unavailable, "kafka seek", error);
  if (rd_kafka_resp_err_t err = at->elems[0].err) return kafka_problem(ProblemKind::broker_unavailable, "kafka seek", err);
  return ok_status();
}

Result<bool> Consumer::caught_up() {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_resp_err_t err = rd_kafka_assignment(rk_.get(), &raw))
    return kafka_problem(ProblemKind::internal, "kafka assignment", err);
  PartitionList parts(raw);
  if (rd_kafka_resp_err_t err = rd_kafka_position(rk_.get(), parts.get()))
    return kafka_problem(ProblemKind::internal, "kafka position", err);
  for (int i = 0; i < parts->cnt; ++i) {
    const auto& tp = parts->elems[i];
    // The high watermark of the last fetch response, never a request: librdkafka 2.0's
    // rd_kafka_query_watermark_offsets ignores its timeout while the leader is down,
    // which hung shutdown. The fetcher refreshes it with every response.
    int64_t low = RD_KAFKA_OFFSET_INVALID, high = RD_KAFKA_OFFSET_INVALID;
    if (rd_kafka_resp_err_t err = rd_kafka_get_watermark_offsets(rk_.get(), tp.topic, tp.partition, &low, &high))
      return kafka_problem(ProblemKind::broker_unavailable, "kafka watermarks", err);
    if (high == RD_KAFKA_OFFSET_INVALID) return false;  // nothing fetched yet
    if (high == 0) continue;                             // empty partition
    if (tp.offset < 0) {                                 // nothing read yet
      if (low == high) continue;                         // (low is known only with statistics)
      return false;
    }
    if (tp.offset < high) return false;
  }
  return true;
}

}  // namespace xoev
