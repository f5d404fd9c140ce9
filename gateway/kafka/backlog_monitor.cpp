#include "gateway/kafka/backlog_monitor.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "gateway/kafka/kafka_problem.h"
#include "gateway/kafka/watermarks.h"

namespace xoev {

BacklogMonitor::BacklogMonitor(const KafkaConnection& connection, std::vector<Watched> watched,
                               size_t budget_bytes_per_partition, std::chrono::milliseconds refresh,
                               size_t unknown_record_bytes, Applies applies)
    : connection_(connection),
      budget_(budget_bytes_per_partition),
      refresh_(std::max(refresh, std::chrono::milliseconds(10))),
      unknown_record_bytes_(unknown_record_bytes),
      cluster_(applies == Applies::always ? ClusterKind::drops_records : ClusterKind::unknown) {
  for (auto& w : watched) {
    auto& groups = topics_[w.topic].groups;
    if (std::find(groups.begin(), groups.end(), w.group_id) == groups.end()) groups.push_back(std::move(w.group_id));
  }
  thread_ = std::thread([this] { run(); });
}

void BacklogMonitor::watch(const Watched& watched) {
  std::lock_guard lock(mu_);
  auto& groups = topics_[watched.topic].groups;
  if (std::find(groups.begin(), groups.end(), watched.group_id) == groups.end()) groups.push_back(watched.group_id);
}

bool BacklogMonitor::is_mock_cluster_id(std::string_view cluster_id) { return cluster_id.starts_with("mockCluster"); }

void BacklogMonitor::identify_cluster(int timeout_ms) {
  if (cluster_ != ClusterKind::unknown) return;
  char* id = rd_kafka_clusterid(meta_.get(), timeout_ms);
  if (id == nullptr) return;  // not reachable yet: ask again next time
  const std::string cluster_id(id);
  rd_kafka_mem_free(meta_.get(), id);
  if (is_mock_cluster_id(cluster_id)) {
    cluster_ = ClusterKind::drops_records;
    spdlog::warn("Kafka cluster {} is librdkafka's mock cluster (xoevgate dev-kafka): it keeps only ~5 MB per partition "
                 "and drops older records, so back-pressure applies: at most {} undelivered bytes per partition",
                 cluster_id, budget_);
  } else {
    cluster_ = ClusterKind::keeps_records;
    spdlog::info("Kafka cluster {} keeps its records: no back-pressure (set kafka.backlog_bytes_per_partition to have "
                 "one)", cluster_id);
  }
}

BacklogMonitor::~BacklogMonitor() {
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BacklogMonitor::run() {
  std::unique_lock lock(stop_mu_);
  while (!stop_) {
    lock.unlock();
    if (auto s = refresh_now(); !s) spdlog::warn("backlog monitor: {}", s.problem().detail);
    lock.lock();
    stop_cv_.wait_for(lock, refresh_, [this] { return stop_; });
  }
}

void BacklogMonitor::record_produced(const std::string& topic, int32_t partition, int64_t offset, size_t bytes) {
  std::lock_guard lock(mu_);
  auto t = topics_.find(topic);
  if (t == topics_.end() || offset < 0) return;
  auto& p = t->second.partitions[partition];
  if (p.committed >= 0 && offset < p.committed) return;  // already delivered
  if (p.ledger.emplace(offset, bytes).second) p.ledger_bytes += bytes;
}

BacklogMonitor::Usage BacklogMonitor::usage(const PartitionState& p) const {
  int64_t start = p.committed >= 0 ? p.committed : p.low;  // no commit yet: the group starts at the earliest
  if (start < 0) start = p.ledger.empty() ? 0 : p.ledger.begin()->first;
  if (p.low >= 0) start = std::max(start, p.low);  // below the log start there is nothing left to deliver
  int64_t end = std::max(p.high, p.ledger.empty() ? int64_t{-1} : p.ledger.rbegin()->first + 1);
  const size_t known = p.ledger.size();
  size_t unknown = 0;
  if (p.high >= 0 && end - start > static_cast<int64_t>(known)) unknown = static_cast<size_t>(end - start) - known;
  return {p.ledger_bytes + (known + unknown) * record_overhead_bytes + unknown * unknown_record_bytes_, known + unknown};
}

bool BacklogMonitor::admits(const std::string& topic, size_t next_bytes) const {
  const ClusterKind kind = cluster_;
  if (kind == ClusterKind::keeps_records) return true;
  if (kind == ClusterKind::unknown) return false;  // may drop records; and if unreachable, takes nothing anyway
  std::lock_guard lock(mu_);
  auto t = topics_.find(topic);
  return t == topics_.end() || admits_locked(t->second, next_bytes);
}

bool BacklogMonitor::admits_locked(const TopicState& t, size_t next_bytes) const {
  Usage worst;
  for (const auto& [id, p] : t.partitions) {
    const Usage u = usage(p);
    worst.bytes = std::max(worst.bytes, u.bytes);
    worst.records = std::max(worst.records, u.records);
  }
  return worst.bytes + t.reserved_bytes + next_bytes + record_overhead_bytes <= budget_ &&
         worst.records + 1 <= max_records_per_partition;
}

std::optional<size_t> BacklogMonitor::try_reserve(const std::string& topic, size_t bytes) {
  const ClusterKind kind = cluster_;
  if (kind == ClusterKind::keeps_records) return 0;
  if (kind == ClusterKind::unknown) return std::nullopt;
  std::lock_guard lock(mu_);
  auto t = topics_.find(topic);
  if (t == topics_.end()) return 0;
  if (!admits_locked(t->second, bytes)) return std::nullopt;
  const size_t counted = bytes + record_overhead_bytes;  // as the ledger will count the record
  t->second.reserved_bytes += counted;
  return counted;
}

void BacklogMonitor::release(const std::string& topic, size_t counted_bytes) {
  if (counted_bytes == 0) return;
  std::lock_guard lock(mu_);
  auto t = topics_.find(topic);
  if (t != topics_.end()) t->second.reserved_bytes -= std::min(counted_bytes, t->second.reserved_bytes);
}

size_t BacklogMonitor::undelivered_bytes(const std::string& topic) const {
  std::lock_guard lock(mu_);
  auto t = topics_.find(topic);
  if (t == topics_.end()) return 0;
  size_t total = 0;
  for (const auto& [id, p] : t->second.partitions) total += usage(p).bytes;
  return total;
}

size_t BacklogMonitor::max_partition_undelivered_bytes(const std::string& topic) const {
  std::lock_guard lock(mu_);
  auto t = topics_.find(topic);
  if (t == topics_.end()) return 0;
  size_t worst = 0;
  for (const auto& [id, p] : t->second.partitions) worst = std::max(worst, usage(p).bytes);
  return worst;
}

Status BacklogMonitor::last_refresh() const {
  std::lock_guard lock(mu_);
  return last_;
}

Status BacklogMonitor::refresh_now(const std::set<std::string>& only) {
  std::lock_guard io(io_mu_);
  Status result = refresh_locked_io(only);
  std::lock_guard lock(mu_);
  last_ = result;
  return result;
}

Status BacklogMonitor::refresh_locked_io(const std::set<std::string>& only) {
  const int timeout_ms = static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(refresh_.count(), 500, 5000));
  // A handle that asks not to create topics (real clusters honour that; the embedded
  // 2.0 mock creates a topic on any lookup, so create topics before the monitor runs),
  // and one per group that never subscribes (so it never joins the group).
  if (!meta_) {
    auto conf = make_rdkafka_conf(connection_, {{"client.id", "xoevgate-backlog-monitor"}},
                                  {{"allow.auto.create.topics", "false"}, {"enable.auto.commit", "false"}});
    if (!conf) return std::move(conf).problem();
    auto rk = make_rdkafka_handle(RD_KAFKA_CONSUMER, std::move(conf).value());
    if (!rk) return std::move(rk).problem();
    meta_ = std::move(rk).value();
    meta_.get_deleter().lookups_only = true;
  }
  identify_cluster(timeout_ms);
  if (cluster_ == ClusterKind::keeps_records) return ok_status();
  if (cluster_ == ClusterKind::unknown)
    return Problem::make(ProblemKind::broker_unavailable, "backlog monitor: the Kafka cluster did not say who it is yet");

  std::map<std::string, std::vector<std::string>> groups_of_topic;
  {
    std::lock_guard lock(mu_);
    for (const auto& [topic, state] : topics_)
      if (only.empty() || only.count(topic)) groups_of_topic[topic] = state.groups;
  }

  std::map<std::string, std::map<int32_t, Watermarks>> offsets;  // topic → partition → watermarks
  for (const auto& [topic, groups] : groups_of_topic) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(meta_.get(), topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(meta_.get(), 0, rkt, &md, timeout_ms);
    int partitions = 0;
    if (!err && md->topic_cnt == 1) {
      err = md->topics[0].err;
      partitions = md->topics[0].partition_cnt;
    }
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;  // nobody produced to it yet
    if (err) return kafka_problem(ProblemKind::broker_unavailable, "backlog monitor: metadata of " + topic, err);
    auto marks = query_watermarks(meta_.get(), topic, partitions, std::chrono::milliseconds(timeout_ms));
    if (!marks) return Problem::make(ProblemKind::broker_unavailable, "backlog monitor: " + marks.problem().detail);
    offsets[topic] = std::move(marks).value();
  }

  // group → its committed offsets, topic → partition → offset (-1 none)
  std::map<std::string, std::map<std::string, std::map<int32_t, int64_t>>> committed;
  std::map<std::string, std::vector<std::string>> topics_of_group;
  for (const auto& [topic, groups] : groups_of_topic)
    for (const auto& g : groups) topics_of_group[g].push_back(topic);
  for (const auto& [group, topics] : topics_of_group) {
    PartitionList list(rd_kafka_topic_partition_list_new(4));
    for (const auto& topic : topics)
      for (const auto& [p, o] : offsets[topic]) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
    if (list->cnt == 0) continue;
    auto& handle = group_handles_[group];
    if (!handle) {
      auto conf = make_rdkafka_conf(connection_, {{"client.id", "xoevgate-backlog-monitor"}},
                                    {{"group.id", group}, {"allow.auto.create.topics", "false"},
                                     {"enable.auto.commit", "false"}});
      if (!conf) return std::move(conf).problem();
      auto rk = make_rdkafka_handle(RD_KAFKA_CONSUMER, std::move(conf).value());
      if (!rk) return std::move(rk).problem();
      handle = std::move(rk).value();
      handle.get_deleter().lookups_only = true;
    }
    if (rd_kafka_resp_err_t err = rd_kafka_committed(handle.get(), list.get(), timeout_ms))
      return kafka_problem(ProblemKind::broker_unavailable, "backlog monitor: committed offsets of group " + group, err);
    rd_kafka_poll(handle.get(), 0);  // drain error events nobody else polls
    for (int i = 0; i < list->cnt; ++i) {
      const auto& tp = list->elems[i];
      if (tp.err)
        return kafka_problem(ProblemKind::broker_unavailable, "backlog monitor: committed offset of " +
                                                                  std::string(tp.topic) + " for group " + group,
                             tp.err);
      committed[group][tp.topic][tp.partition] = tp.offset >= 0 ? tp.offset : -1;
    }
  }
  rd_kafka_poll(meta_.get(), 0);

  std::lock_guard lock(mu_);
  for (auto& [topic, state] : topics_) {
    if (!groups_of_topic.count(topic)) continue;  // not refreshed this time
    for (const auto& [p, o] : offsets[topic]) {
      auto& ps = state.partitions[p];
      ps.low = o.low;
      ps.high = o.high;
      int64_t slowest = INT64_MAX;
      for (const auto& g : state.groups) slowest = std::min(slowest, committed[g][topic].count(p) ? committed[g][topic][p] : -1);
      ps.committed = slowest == INT64_MAX ? -1 : slowest;
      const int64_t start = std::max(ps.committed >= 0 ? ps.committed : ps.low, ps.low);
      if (ps.committed >= 0 && ps.committed < ps.low && ps.high > ps.committed) {
        if (!ps.loss_reported)
          spdlog::error("backlog monitor: {}[{}] dropped records {}..{} BEFORE they were delivered (the cluster's "
                        "retention removed them; the embedded cluster keeps only ~5 MB per partition)",
                        topic, p, ps.committed, ps.low - 1);
        ps.loss_reported = true;
      } else {
        ps.loss_reported = false;
      }
      // Forget what was delivered (or is gone).
      for (auto it = ps.ledger.begin(); it != ps.ledger.end() && it->first < start;) {
        ps.ledger_bytes -= it->second;
        it = ps.ledger.erase(it);
      }
    }
  }
  return ok_status();
}

}  // namespace xoev
