// Sender callbacks: for routes with `callback:`, every receipt of their messages is
// POSTed to the sender's URL as JSON, signed with HMAC-SHA256 over timestamp and
// body (header X-Xoev-Signature: t=<unix>,v1=<hex>). The gateway instances share the
// work as consumer group xoevgate.callbacks on xoev.receipts, so each receipt is sent
// by one instance; failed calls are retried a few times, then logged and skipped.
// Only receipts signed by a trusted gateway or deliverer key are sent: whoever can
// write to xoev.receipts cannot make the gateway post to a sender.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <stop_token>
#include <unordered_set>

#include "gateway/crypto/key_ring.h"
#include "gateway/ingest/snapshot_holder.h"
#include "gateway/kafka/consumer_service.h"
#include "gateway/kafka/kafka_connection.h"
#include "gateway/status/receipt.h"

namespace xoev {

class CallbackDispatcher {
 public:
  // Starts consuming at once; `snapshots` must outlive the dispatcher. `trusted`: the
  // keys whose receipts count (load_receipt_signers).
  CallbackDispatcher(KafkaConnection connection, SnapshotHolder& snapshots, crypto::KeyRing trusted);
  ~CallbackDispatcher() { stop(); }
  void stop() { service_.reset(); }
  uint64_t sent() const { return sent_.load(); }
  uint64_t failed() const { return failed_.load(); }

 private:
  void run(RecordSource& receipts, const std::stop_token& stop);
  bool post(const RouteSection& route, const std::string& message_id, const std::string& traceparent,
            const std::string& body, const std::stop_token& stop);
  std::string secret(const fs::path& file);
  // False for a (message id, status, at) sent lately: a restated receipt is not news.
  bool first_time(const Receipt& r);

  SnapshotHolder& snapshots_;
  const crypto::KeyRing trusted_;
  std::map<fs::path, std::string> secrets_;  // only the service's thread uses these
  static constexpr size_t kRecentSteps = 65536;
  std::unordered_set<std::string> recent_steps_;
  std::deque<std::string> recent_order_;
  std::atomic<uint64_t> sent_{0}, failed_{0};
  std::unique_ptr<ConsumerService> service_;  // last: stopped before the members it uses go
};

// True if any route of the config has a callback.
bool has_callbacks(const Config& config);
// False if the receipt (not yet verified) cannot lead to a callback under `config`:
// then it need not be verified at all.
bool may_call_back(const Config& config, const std::string& receipt_json);

}  // namespace xoev
