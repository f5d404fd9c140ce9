// Where records come from: the seam between the consumer loops and Kafka's consumer,
// so the delivery loop can be tested with a fake source.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/result.h"
#include "gateway/kafka/envelope.h"

namespace xoev {

struct ConsumedRecord {
  Envelope env;
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp_ms = -1;  // the record's CreateTime, -1 if none
};

// How far a consumer's group is behind on one of its partitions (for /metrics).
struct PartitionLag {
  std::string topic;
  int32_t partition = -1;
  int64_t committed = -1;  // the group's next offset to handle
  int64_t high = -1;       // high watermark (next offset to be written)
  int64_t lag() const { return high > committed ? high - committed : 0; }
};

class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // One record, or nullopt if none arrived within `timeout`. A Problem reports a
  // (mostly transient) consumer error: log it and keep polling.
  virtual Result<std::optional<ConsumedRecord>> poll(std::chrono::milliseconds timeout) = 0;
  // Marks the record (and everything before it in its partition) as handled.
  virtual Status commit(const ConsumedRecord& record) = 0;
  // True once poll() returned everything up to the high watermarks last seen by the
  // fetcher (false until it saw them). Never blocks.
  virtual Result<bool> caught_up() = 0;
  // Lag of each assigned partition whose offsets are known; empty for sources without
  // a group. Called on the polling thread.
  virtual std::vector<PartitionLag> lag() { return {}; }
  // Gives the source's partitions back (to the group's other members). Idempotent.
  virtual void close() = 0;
};

}  // namespace xoev
