// Folds topic xoev.receipts into a StatusStore on a background consumer service, from
// the beginning of the topic, so a restarted or additional gateway instance knows every
// message's status (and answers resends with 200) without shared storage.
#pragma once

#include <atomic>
#include <memory>
#include <stop_token>

#include "gateway/kafka/consumer_service.h"
#include "gateway/kafka/kafka_connection.h"
#include "gateway/status/status_store.h"

namespace xoev {

class ReceiptsTracker {
 public:
  // Starts reading at once; `store` must outlive the tracker.
  ReceiptsTracker(KafkaConnection connection, StatusStore& store);
  ~ReceiptsTracker() { stop(); }
  void stop() { service_.reset(); }
  bool caught_up() const { return caught_up_.load(); }
  uint64_t applied() const { return applied_.load(); }

  // The loop body, for the service (and for tests with a fake source).
  void run(RecordSource& receipts, std::stop_token stop);

 private:
  StatusStore& store_;
  std::atomic<bool> caught_up_{false};
  std::atomic<uint64_t> applied_{0};
  std::unique_ptr<ConsumerService> service_;  // last: stopped before the members it uses go
};

}  // namespace xoev
