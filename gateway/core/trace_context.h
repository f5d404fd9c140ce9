// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` a sender
// gives is carried through Kafka to the target, the callbacks, the logs and the
// receipts. Only a well-formed one is trusted; anything else starts a new trace, so a
// sender cannot smuggle arbitrary text into headers and log lines this way.
#pragma once

#include <string>
#include <string_view>

namespace xoev {

// "00-<32 lowercase hex, not all zero>-<16 lowercase hex, not all zero>-<2 lowercase hex>"
bool is_valid_traceparent(std::string_view value);
// A new trace: random trace id and parent id, flags 01 (sampled).
std::string new_traceparent();
// `incoming` if valid, else a new trace.
std::string traceparent_or_new(std::string_view incoming);

}  // namespace xoev
