// librdkafka error codes → the one Problem type, with librdkafka's own reason.
#pragma once

#include <librdkafka/rdkafka.h>

#include <string>
#include <string_view>

#include "gateway/core/problem.h"

namespace xoev {

inline Problem kafka_problem(ProblemKind kind, std::string_view what, rd_kafka_resp_err_t err) {
  return Problem::make(kind, std::string(what) + ": " + rd_kafka_err2str(err) + " (" + rd_kafka_err2name(err) + ")");
}

// Takes ownership of `error` (may be null → nullptr-safe "unknown error").
inline Problem kafka_problem(ProblemKind kind, std::string_view what, rd_kafka_error_t* error) {
  std::string reason = error ? rd_kafka_error_string(error) : "unknown error";
  if (error) rd_kafka_error_destroy(error);
  return Problem::make(kind, std::string(what) + ": " + reason);
}

}  // namespace xoev
