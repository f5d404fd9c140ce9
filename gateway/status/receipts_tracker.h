// Folds topic xoev.receipts into a StatusStore on a background thread, from the
// beginning of the topic, so a restarted or additional gateway instance knows every
// message's status (and answers resends with 200) without shared storage.
#pragma once

#include <atomic>
#include <thread>

#include "gateway/kafka/kafka_connection.h"
#include "gateway/status/status_store.h"

namespace xoev {

class ReceiptsTracker {
 public:
  ReceiptsTracker(KafkaConnection connection, StatusStore& store);
  ~ReceiptsTracker();
  void start();
  void stop();
  bool caught_up() const { return caught_up_.load(); }
  uint64_t applied() const { return applied_.load(); }

 private:
  void run();
  KafkaConnection connection_;
  StatusStore& store_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> caught_up_{false};
  std::atomic<uint64_t> applied_{0};
  std::thread thread_;
};

}  // namespace xoev
