// The durable record of message ids a destination has received, so a redelivery
// after a crash (at-least-once consumption) never reaches the Fachverfahren twice.
// An append-only file of "<unix seconds> <message id>" lines, fsynced per call (one
// call records a whole delivered group: one fdatasync for many ids),
// loaded at start; entries older than the window are dropped when the file is
// rewritten at start. One deliverer per destination writes it (the consumer group
// gives each partition to one member; the file lock refuses a second process).
#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "gateway/core/result.h"

namespace xoev {

class DeliveredLedger {
 public:
  static Result<std::unique_ptr<DeliveredLedger>> open(const std::filesystem::path& file, std::chrono::hours window);
  ~DeliveredLedger();

  bool contains(const std::string& message_id) const;
  // Durable when it returns ok (write + fdatasync).
  Status record(const std::string& message_id);
  // All of them with one write and one fdatasync (group commit).
  Status record_all(const std::vector<std::string>& message_ids);
  size_t size() const;

 private:
  DeliveredLedger() = default;
  std::filesystem::path file_;
  std::chrono::hours window_{0};
  int fd_ = -1;
  int lock_fd_ = -1;
  mutable std::mutex mu_;
  std::unordered_map<std::string, int64_t> ids_;
};

}  // namespace xoev
