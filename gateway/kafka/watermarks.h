#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <string>

#include "gateway/core/result.h"

namespace xoev {

struct Watermarks {
  int64_t low = -1;   // the first offset still kept (log start)
  int64_t high = -1;  // the offset the next record gets (log end)
};

// The low and high watermarks of partitions 0..partitions-1 of `topic`, asked of their
// leaders (ListOffsets, earliest and latest) within `timeout` in all. Bounded even
// while a leader is down: librdkafka 2.0's rd_kafka_query_watermark_offsets waits for
// the leader's answer without end then, which hung the backlog monitor's shutdown.
// Any partition's error → Problem broker_unavailable naming it.
Result<std::map<int32_t, Watermarks>> query_watermarks(rd_kafka_t* rk, const std::string& topic, int partitions,
                                                       std::chrono::milliseconds timeout);

}  // namespace xoev
