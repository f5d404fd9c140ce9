// Reading records for at-least-once delivery.
//
// Group mode (create): a member of consumer group `group_id` subscribed to `topics`.
// Nothing is committed automatically: the caller commits each record after it has been
// handled (commit = offset + 1 of that partition, synchronous). A rebalance hands
// uncommitted records to the next owner, so a record is never lost and at worst
// handled twice (callers dedupe by message id). A new group starts at the earliest
// offset.
//
// Reader mode (create_reader): for status stores that rebuild their state from a whole
// topic. It assigns every partition of the topic at OFFSET_BEGINNING itself (partitions
// are looked up once at creation), joins no group and commits nothing. (librdkafka 2.0
// needs a group.id even for assign(): it gets a random one it never uses.)
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <utility>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/result.h"
#include "gateway/kafka/envelope.h"
#include "gateway/kafka/kafka_connection.h"
#include "gateway/kafka/record_source.h"

namespace xoev {

// librdkafka's mock cluster (embedded, dev-kafka) answers an empty fetch only after the
// consumer's whole fetch.wait.max.ms, even when records arrive meanwhile, so a consumer
// that caught up stalls a paced upload (large messages) by that much each time. On a
// cluster whose id says mock the wait is kMockClusterFetchWait unless the operator set
// fetch.wait.max.ms; any other cluster keeps Consumer::create's 20 ms (a real broker
// answers as soon as records arrive: a shorter wait there only adds idle fetches).
// Measured with bench/large.py, 300 MB, alternating: 4.90-5.19 s at 20 ms, 3.72-4.20 s at 2
// (5 ms: 4.02-4.34 s); idle, a deliverer and dev-kafka cost 2.5 % + 5.1 % of a core at 2 ms.
inline constexpr std::string_view kMockClusterFetchWait = "2";
KafkaConnection with_fetch_wait_for_cluster(KafkaConnection connection, std::string_view cluster_id);

class Consumer final : public RecordSource {
 public:
  // from_beginning: a new group (or a group without a committed offset) starts at the
  // earliest record; otherwise at the end (only records produced from now on).
  static Result<std::unique_ptr<Consumer>> create(const KafkaConnection& connection, const std::string& group_id,
                                                  const std::vector<std::string>& topics, bool from_beginning);
  // Reader mode (see above). The topic is auto-created if the cluster allows it.
  static Result<std::unique_ptr<Consumer>> create_reader(const KafkaConnection& connection, const std::string& topic,
                                                         std::chrono::milliseconds metadata_timeout);
  ~Consumer() override;
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // One record, or nullopt if none arrived within `timeout`. A Problem
  // (broker_unavailable) reports a consumer error; most are transient (a broker went
  // away, a topic does not exist yet): log it and keep polling. Single-threaded use.
  Result<std::optional<ConsumedRecord>> poll(std::chrono::milliseconds timeout) override;

  // Synchronously commits offset+1 of the record's partition for the group. Fails
  // (broker_unavailable) e.g. when the partition was revoked meanwhile: then the record
  // will be delivered again to the partition's new owner. Reader mode: Problem usage.
  Status commit(const ConsumedRecord& record) override;

  // The next poll() of that partition returns this record again (retry after backoff).
  Status seek(const ConsumedRecord& record);

  // True once every assigned partition was read up to the high watermark of its last
  // fetch response (false until one arrived). Never blocks, also with the broker gone.
  Result<bool> caught_up() override;

  // The group's committed offset (as this consumer last committed it, else asked once
  // per assigned partition) against the high watermark of the last fetch response,
  // which never blocks. Works on any cluster. Single-threaded use, like poll().
  std::vector<PartitionLag> lag() override;

  // Leaves the group (its partitions go to the other members at once). Idempotent.
  void close() override;

 private:
  Consumer() = default;
  RdKafkaHandle rk_;
  bool reader_ = false;
  std::map<std::pair<std::string, int32_t>, int64_t> committed_;  // for lag(): topic, partition → next offset
  bool closed_ = false;
};

}  // namespace xoev
