// What the gateway knows about each message: folded from receipts, in whatever
// order they arrive (the gateway's "accepted" and a fast deliverer's "delivered"
// race on the receipts topic). Bounded: beyond max_entries the oldest finished
// messages are forgotten first.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "gateway/status/receipt.h"

namespace xoev {

struct MessageStatus {
  std::string message_id;
  std::string destination;
  std::string standard;
  std::string message_type;
  ReceiptStatus status = ReceiptStatus::accepted;
  std::string detail;
  std::string routing_version;  // of the table that routed it, when a receipt said so
  std::string sender;  // who submitted it (Receipt::sender); not part of the JSON answers
  uint64_t size = 0, chunks = 0;  // large messages: bytes and chunk records (0: single record)
  std::vector<std::pair<ReceiptStatus, std::string>> history;  // (status, at), ordered by time

  nlohmann::json to_json() const;         // GET /v1/messages/{id}
  nlohmann::json accepted_answer() const;  // the 202 body, repeated as 200 for a resent id
};

class StatusStore {
 public:
  explicit StatusStore(size_t max_entries = 2'000'000) : max_entries_(max_entries) {}
  virtual ~StatusStore() = default;

  // Idempotent: the same (status, at) twice changes nothing.
  void apply(const Receipt& r);
  // Virtual only so that tests can pause a reader at the point where races happen.
  virtual std::optional<MessageStatus> get(const std::string& message_id) const;
  size_t size() const;
  // Counts per status, for /metrics.
  std::vector<std::pair<ReceiptStatus, size_t>> counts() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, MessageStatus> by_id_;
  std::deque<std::string> insertion_order_;
  size_t max_entries_;
};

}  // namespace xoev
