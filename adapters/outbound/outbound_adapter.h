// The outbound seam: an adapter only talks to its target. The delivery loop owns
// consuming, verifying, decrypting, retries, dead letters and receipts, so a new
// target is one folder with one class.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "gateway/core/message.h"
#include "gateway/core/problem.h"
#include "gateway/core/result.h"
#include "gateway/core/routing_header.h"

namespace xoev {

// What the adapter gets: the exact submitted bytes (decrypted, verified) and the
// routing facts from the signed Kafka headers.
using DeliveredMessage = Message;

struct Delivered {
  std::string detail;  // e.g. the file written, the HTTP status
};
struct Retry {
  std::chrono::milliseconds after{0};  // 0 = use the destination's backoff
  std::string reason;
};
struct Reject {
  Problem problem;  // the target refused for good (e.g. HTTP 4xx): no retry
};
using DeliveryOutcome = std::variant<Delivered, Retry, Reject>;

class OutboundAdapter {
 public:
  virtual ~OutboundAdapter() = default;
  virtual std::string_view type() const = 0;
  // Must be idempotent per message_id: the loop may call it again after a crash.
  virtual DeliveryOutcome deliver(const DeliveredMessage& message) = 0;
  // True when deliver_group() makes a group durable together AND a repeat of any of
  // its messages is invisible to the target (the file adapter: a file already there is
  // not written again). The loop then records the group in its ledger afterwards, so a
  // kill -9 may repeat the whole group. Other adapters get one message at a time, each
  // in the ledger before the next is delivered: a kill -9 repeats at most one (covered
  // by the HTTP adapter's Idempotency-Key).
  virtual bool delivers_groups() const { return false; }
  // True when deliver() reads a large message from DeliveredMessage::body_file itself
  // (constant memory). For other adapters the loop reads the file into body, up to
  // kMaxInMemoryDeliveryBytes; larger messages are refused for them.
  virtual bool streams_files() const { return false; }
  static constexpr uint64_t kMaxInMemoryDeliveryBytes = 64u << 20;
  // Delivers `messages` (distinct ids) and returns one outcome for each of a prefix of
  // them, in order: a sequential adapter stops after the first outcome that is not
  // Delivered; a concurrent one (the HTTP adapter's max_in_flight) returns an outcome
  // for every message. The loop records the Delivered prefix together and handles each
  // later message with the outcome it got. Adapters that can make a group durable
  // together (one sync for many files) override it; the rest go one by one.
  // Re-reads the adapter's certificate files (SIGHUP: renewed certificates) for new
  // connections; on failure the old ones stay. Called from another thread than
  // deliver(). Adapters without a listener of their own have nothing to re-read.
  virtual Status reload_tls() { return ok_status(); }
  virtual std::vector<DeliveryOutcome> deliver_group(const std::vector<const DeliveredMessage*>& messages) {
    std::vector<DeliveryOutcome> outcomes;
    for (const DeliveredMessage* m : messages) {
      outcomes.push_back(deliver(*m));
      if (!std::holds_alternative<Delivered>(outcomes.back())) break;
    }
    return outcomes;
  }
};

using OutboundAdapterPtr = std::unique_ptr<OutboundAdapter>;

}  // namespace xoev
