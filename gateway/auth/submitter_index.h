// Which sender submitted which message id, so GET /v1/messages/{id} answers only that
// sender (and admins). Bounded: the oldest entries go first.
#pragma once

#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace xoev::auth {

class SubmitterIndex {
 public:
  explicit SubmitterIndex(std::size_t capacity = 1'000'000) : capacity_(capacity) {}
  // The first submitter of an id stays its owner (a resend by another sender changes nothing).
  void remember(const std::string& message_id, const std::string& sender);
  std::optional<std::string> submitter(const std::string& message_id) const;

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::string> owner_;
  std::deque<std::string> order_;
};

}  // namespace xoev::auth
