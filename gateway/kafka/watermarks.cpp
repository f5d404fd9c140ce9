#include "gateway/kafka/watermarks.h"

#include <algorithm>

#include "gateway/kafka/kafka_connection.h"
#include "gateway/kafka/kafka_problem.h"

namespace xoev {
namespace {

// ListOffsets takes a timestamp per partition; -2 and -1 ask for the earliest and the
// latest offset. rd_kafka_offsets_for_times, unlike rd_kafka_query_watermark_offsets,
// stops waiting at its timeout.
Status list_offsets(rd_kafka_t* rk, const std::string& topic, int partitions, int64_t which, int timeout_ms,
                    std::map<int32_t, Watermarks>& out) {
  PartitionList list(rd_kafka_topic_partition_list_new(partitions));
  for (int32_t p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = which;
  const char* what = which == RD_KAFKA_OFFSET_BEGINNING ? "low watermarks of " : "high watermarks of ";
  if (rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, list.get(), timeout_ms))
    return kafka_problem(ProblemKind::broker_unavailable, what + topic, err);
  for (int i = 0; i < list->cnt; ++i) {
    const auto& tp = list->elems[i];
    if (tp.err)
      return kafka_problem(ProblemKind::broker_unavailable, what + topic + "[" + std::to_string(tp.partition) + "]",
                           tp.err);
    auto& w = out[tp.partition];
    (which == RD_KAFKA_OFFSET_BEGINNING ? w.low : w.high) = tp.offset;
  }
  return ok_status();
}

}  // namespace

Result<std::map<int32_t, Watermarks>> query_watermarks(rd_kafka_t* rk, const std::string& topic, int partitions,
                                                       std::chrono::milliseconds timeout) {
  std::map<int32_t, Watermarks> out;
  if (partitions <= 0) return out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto remaining_ms = [&] {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 1));
  };
  if (auto s = list_offsets(rk, topic, partitions, RD_KAFKA_OFFSET_BEGINNING, remaining_ms(), out); !s)
    return std::move(s).problem();
  if (auto s = list_offsets(rk, topic, partitions, RD_KAFKA_OFFSET_END, remaining_ms(), out); !s)
    return std::move(s).problem();
  for (auto& [p, w] : out)
    if (w.low < 0 && w.high >= 0) w.low = w.high;  // an empty partition may name only its end
  return out;
}

}  // namespace xoev
