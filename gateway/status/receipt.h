// A receipt: one step in a message's life, as it travels on topic xoev.receipts
// (names::kReceiptsTopic; key = message id; CONTRACTS.md §3). Every gateway instance folds them into its
// StatusStore, so any instance answers GET /v1/messages/{id}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/core/result.h"

namespace xoev {

enum class ReceiptStatus { accepted, forwarded, failed, delivered, rejected, dead_lettered };

std::string_view to_string(ReceiptStatus s);
std::optional<ReceiptStatus> parse_status(std::string_view s);
bool is_terminal(ReceiptStatus s);
// XTA TransportReport-like status: 0 = delivered, 1 = in transit, 2 = warning (retrying), 3 = error.
int transport_status(ReceiptStatus s);

struct Receipt {
  std::string message_id;
  std::string destination;
  ReceiptStatus status = ReceiptStatus::accepted;
  std::string at;      // RFC 3339
  std::string detail;  // human-readable; the reason for failed/rejected/dead-lettered
  // Only on "accepted": lets any instance repeat the original 202 answer for a resent id.
  std::string standard;
  std::string message_type;
  std::string route;  // the route that chose the destination (for sender callbacks)
  std::string traceparent;  // W3C trace context of the message (gateway/core/trace_context.h)
  // The routing table version that chose the destination ("7-3fa9c2e1"; JSON
  // "routingVersion", absent in receipts written before it existed).
  std::string routing_version;
  // The authenticated sender (senders[].id) that submitted it, so that after a restart the
  // gateway still answers GET /v1/messages/{id} to that sender only. Optional: empty in
  // anonymous mode and in receipts written before it existed.
  std::string sender;
  // Large messages (issue 10): the whole message's bytes and its chunk records; 0 when
  // unknown or a single record (JSON "size"/"chunks", absent then).
  uint64_t size = 0;
  uint64_t chunks = 0;
  // The steps before this one that the writer knows of, oldest first. With them the
  // last receipt per message id is a complete status, so xoev.receipts may be a
  // compacted topic (key = message id) and still answer GET after any restart.
  std::vector<std::pair<ReceiptStatus, std::string>> history;

  std::string to_json() const;
  static Result<Receipt> from_json(std::string_view json);
};

}  // namespace xoev
