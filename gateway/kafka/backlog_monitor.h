// Back-pressure for clusters that silently drop undelivered records — above all the
// embedded cluster, which keeps only ~5 MB (and 100,000 batches) per partition. The
// gateway asks admits() before producing and answers 503 backlog-full when the
// undelivered backlog of the destination's topic would exceed the budget.
//
// Undelivered = between the watched group's committed offset (the slowest group if a
// topic is watched by several) and the high watermark. Sizes are known exactly for
// records this process produced (the ledger fed by record_produced()); records it did
// not produce (before a restart, by another instance) count as `unknown_record_bytes`
// each. A background thread refreshes committed offsets (rd_kafka_committed on a
// handle carrying the group's id that never subscribes, so it never joins the group)
// and watermarks every `refresh`; refresh_now() does the same synchronously.
//
// Which clusters drop records: librdkafka's mock cluster (embedded, or `xoevgate
// dev-kafka`) identifies itself by its cluster id "mockCluster…". With
// Applies::if_cluster_drops_records the monitor first asks the cluster who it is:
// until it knows, admits() says no (a cluster it cannot reach takes nothing anyway);
// a real cluster is admitted without limit and no longer watched; a mock cluster gets
// the budget, so a gateway pointed at dev-kafka never accepts what it would drop.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gateway/core/result.h"
#include "gateway/kafka/kafka_connection.h"

namespace xoev {

class BacklogMonitor {
 public:
  struct Watched {
    std::string topic;
    std::string group_id;  // the consumer group that delivers the topic's records
  };

  // Protocol overhead added to every record's payload size (record + batch headers),
  // so that the estimate stays above what the broker stores.
  static constexpr size_t record_overhead_bytes = 128;
  // The embedded cluster also drops beyond 100,000 batches per partition; a batch
  // holds at least one record, so counting records keeps us on the safe side.
  static constexpr size_t max_records_per_partition = 90000;

  enum class Applies { always, if_cluster_drops_records };
  // The budget for clusters that drop records when nothing else is configured: clear
  // of the mock cluster's ~5 MB per partition.
  static constexpr size_t mock_cluster_budget_bytes = 3u << 20;
  // librdkafka's mock cluster names itself "mockCluster<hex>".
  static bool is_mock_cluster_id(std::string_view cluster_id);

  BacklogMonitor(const KafkaConnection& connection, std::vector<Watched> watched, size_t budget_bytes_per_partition,
                 std::chrono::milliseconds refresh, size_t unknown_record_bytes = 64 * 1024,
                 Applies applies = Applies::always);
  ~BacklogMonitor();  // stops the refresh thread (waits for a refresh under way)
  BacklogMonitor(const BacklogMonitor&) = delete;
  BacklogMonitor& operator=(const BacklogMonitor&) = delete;

  // From the producer's delivery report: `bytes` = key + value + header sizes.
  // Starts watching one more topic (a destination a reload adds); its offsets are
  // known from the next refresh on. Idempotent.
  void watch(const Watched& watched);
  void record_produced(const std::string& topic, int32_t partition, int64_t offset, size_t bytes);

  // True if a record of `next_bytes` fits the budget whichever partition it lands in,
  // beside the bytes reserved and not yet released. Unwatched topics are always admitted.
  bool admits(const std::string& topic, size_t next_bytes) const;
  // admits() and, if so, counts `bytes` (+ the record overhead) as in flight until release(): records admitted
  // but not yet acknowledged (so not yet in the ledger) count against the budget, so
  // many submissions admitted at once cannot together overshoot it. nullopt: not
  // admitted; else the bytes counted (0 where nothing is limited), to be released after
  // record_produced(), or when the record was not produced.
  std::optional<size_t> try_reserve(const std::string& topic, size_t bytes);
  void release(const std::string& topic, size_t counted_bytes);
  // A sealed record's size from its plaintext's: base64url (4/3) plus room for the JWE
  // header, key and record headers.
  static constexpr size_t sealed_size_estimate(size_t plaintext_bytes) { return plaintext_bytes / 3 * 4 + 8192; }

  // Undelivered bytes of the topic, summed over its partitions (for metrics).
  size_t undelivered_bytes(const std::string& topic) const;
  // Undelivered bytes of the fullest partition (what admits() compares).
  size_t max_partition_undelivered_bytes(const std::string& topic) const;

  // Refreshes offsets now, of `only` these topics if given (a waiting upload asks
  // often: only its topic's offsets, not every destination's); the result of the last
  // refresh (for /readyz and logs).
  Status refresh_now(const std::set<std::string>& only = {});
  Status last_refresh() const;
  // With Applies::if_cluster_drops_records: true once the cluster was identified as
  // one that drops records (always true with Applies::always).
  bool limits_apply() const { return cluster_ == ClusterKind::drops_records; }

 private:
  struct PartitionState {
    int64_t low = -1;        // log start offset, -1 unknown
    int64_t high = -1;       // high watermark, -1 unknown
    int64_t committed = -1;  // min committed offset over the topic's groups, -1 none
    bool loss_reported = false;
    std::map<int64_t, size_t> ledger;  // offset → bytes, records this process produced
    size_t ledger_bytes = 0;
  };
  struct TopicState {
    std::vector<std::string> groups;
    std::map<int32_t, PartitionState> partitions;
    size_t reserved_bytes = 0;  // try_reserve()d, not yet released; counted on every partition
  };
  struct Usage {
    size_t bytes = 0;
    size_t records = 0;
  };

  enum class ClusterKind { unknown, drops_records, keeps_records };
  Usage usage(const PartitionState& p) const;
  bool admits_locked(const TopicState& t, size_t next_bytes) const;
  // Asks the cluster for its id (with Applies::if_cluster_drops_records). Under io_mu_.
  void identify_cluster(int timeout_ms);
  void run();
  Status refresh_locked_io(const std::set<std::string>& only);

  KafkaConnection connection_;
  const size_t budget_;
  const std::chrono::milliseconds refresh_;
  const size_t unknown_record_bytes_;
  std::atomic<ClusterKind> cluster_;

  mutable std::mutex mu_;  // guards topics_ and last_
  std::map<std::string, TopicState> topics_;
  Status last_ = Problem::make(ProblemKind::broker_unavailable, "backlog monitor: not refreshed yet");

  std::mutex io_mu_;  // one refresh at a time; guards the handles
  RdKafkaHandle meta_;
  std::map<std::string, RdKafkaHandle> group_handles_;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace xoev
