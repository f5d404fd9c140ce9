// The messages a destination handed on to another gateway whose final status is not
// known yet (gateway/delivery/hand_over.h). Durable, so a restarted deliverer keeps
// asking about them: an append-only file of JSON lines, "+" (handed over, with what
// the final receipt must carry) and "-" (final status published), fsynced per line and
// compacted to the outstanding entries when opened. The destination's delivered
// ledger lock already keeps a second deliverer away.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "gateway/core/result.h"
#include "gateway/status/receipt.h"

namespace xoev {

struct ForwardedEntry {
  std::string message_id;
  int64_t handed_over_ms = 0;  // Unix time; the follow-up gives up counting from here
  std::vector<std::pair<ReceiptStatus, std::string>> history;  // steps so far, for the final receipt
  std::string route;
  std::string traceparent;
};

class ForwardedLedger {
 public:
  static Result<std::unique_ptr<ForwardedLedger>> open(const std::filesystem::path& file);
  ~ForwardedLedger();

  // Durable when it returns ok. Adding an id again replaces its entry.
  Status add(const ForwardedEntry& entry);
  Status remove(const std::string& message_id);
  std::vector<ForwardedEntry> outstanding() const;
  bool contains(const std::string& message_id) const;

 private:
  ForwardedLedger() = default;
  Status append(const std::string& line);
  std::filesystem::path file_;
  int fd_ = -1;
  mutable std::mutex mu_;
  std::map<std::string, ForwardedEntry> entries_;
};

}  // namespace xoev
