// One Kafka record per message (CONTRACTS.md §3): topic, key = message id,
// value = JWE compact of the exact submitted bytes, UTF-8 headers.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xoev {

namespace header {
inline constexpr std::string_view message_id = "xoev-message-id";
inline constexpr std::string_view message_type = "xoev-message-type";
inline constexpr std::string_view standard = "xoev-standard";
inline constexpr std::string_view sender = "xoev-sender";
inline constexpr std::string_view recipient = "xoev-recipient";
inline constexpr std::string_view destination = "xoev-destination";
inline constexpr std::string_view accepted_at = "xoev-accepted-at";
inline constexpr std::string_view content_type = "content-type";
inline constexpr std::string_view traceparent = "traceparent";
inline constexpr std::string_view signature = "xoev-signature";
// Extra (not signed): delivery attempt bookkeeping on DLQ records.
inline constexpr std::string_view dlq_reason = "xoev-dlq-reason";
inline constexpr std::string_view dlq_attempts = "xoev-dlq-attempts";
// Where the dead letter came from (every dead letter), and "true" when the record was
// not verifiably the message it claims (bad signature, another destination's record):
// such a letter speaks for no message id and is never replayed.
inline constexpr std::string_view dlq_topic = "xoev-dlq-topic";
inline constexpr std::string_view dlq_partition = "xoev-dlq-partition";
inline constexpr std::string_view dlq_offset = "xoev-dlq-offset";
inline constexpr std::string_view dlq_unverified = "xoev-dlq-unverified";
// Extra (not signed): the route that chose the destination, so receipts can name it
// and the route's sender callback finds them. Tampering only misdirects a notification.
inline constexpr std::string_view route = "xoev-route";
// Extra (not signed): the routing table version that chose the destination, as in the
// accepted receipt ("7-3fa9c2e1"). Older records lack it; verification never needs it.
inline constexpr std::string_view routing_version = "xoev-routing-version";

// The headers the gateway signature covers, in this order.
inline constexpr std::array<std::string_view, 9> signed_headers = {
    message_id, message_type, standard, sender, recipient, destination, accepted_at, content_type, traceparent};
}  // namespace header

struct Envelope {
  std::string topic;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;

  // First header with that name, or nullptr.
  const std::string* find(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return &v;
    return nullptr;
  }
  std::string get(std::string_view name) const {
    const auto* v = find(name);
    return v ? *v : std::string{};
  }
  void set(std::string_view name, std::string value_) {
    for (auto& [k, v] : headers)
      if (k == name) {
        v = std::move(value_);
        return;
      }
    headers.emplace_back(std::string(name), std::move(value_));
  }
};

}  // namespace xoev
