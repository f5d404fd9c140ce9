// Folds topic xoev.receipts into a StatusStore on a background consumer service, from
// the beginning of the topic, so a restarted or additional gateway instance knows every
// message's status (and answers resends with 200) without shared storage. Only
// receipts signed by a trusted key are applied (receipt_signature.h); the others are
// counted and logged with their partition and offset, never applied.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>

#include "gateway/crypto/key_ring.h"
#include "gateway/kafka/consumer_service.h"
#include "gateway/kafka/kafka_connection.h"
#include "gateway/status/status_store.h"

namespace xoev {

class ReceiptsTracker {
 public:
  // Starts reading at once; `store` must outlive the tracker. `trusted`: the keys of
  // gateways and deliverers whose receipts count.
  ReceiptsTracker(KafkaConnection connection, StatusStore& store, crypto::KeyRing trusted);
  // For tests that drive run() themselves: no service is started.
  ReceiptsTracker(StatusStore& store, crypto::KeyRing trusted);
  ~ReceiptsTracker() { stop(); }
  void stop() { service_.reset(); }
  // Called on the tracker's thread after each receipt it applied to the store; set once,
  // before the first receipt matters (the gateway's pipeline restates its accepted
  // receipts that a deliverer's overtook).
  using AppliedHook = std::function<void(const Receipt& applied)>;
  void on_applied(AppliedHook hook) {
    std::lock_guard lock(hook_mu_);
    hook_ = std::move(hook);
  }
  bool caught_up() const { return caught_up_.load(); }
  uint64_t applied() const { return applied_.load(); }
  // Records on xoev.receipts that were not applied: unsigned, untrusted, altered, no receipt.
  uint64_t unverified() const { return unverified_.load(); }

  // The loop body, for the service (and for tests with a fake source).
  void run(RecordSource& receipts, std::stop_token stop);

 private:
  Result<Receipt> recognised_or_verified(const Envelope& env) const;

  StatusStore& store_;
  const crypto::KeyRing trusted_;
  std::atomic<bool> caught_up_{false};
  std::atomic<uint64_t> applied_{0};
  std::atomic<uint64_t> unverified_{0};
  std::mutex hook_mu_;
  AppliedHook hook_;
  std::unique_ptr<ConsumerService> service_;  // last: stopped before the members it uses go
};

}  // namespace xoev
