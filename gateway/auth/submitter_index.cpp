#include "gateway/auth/submitter_index.h"

namespace xoev::auth {

void SubmitterIndex::remember(const std::string& message_id, const std::string& sender) {
  std::lock_guard lock(mutex_);
  if (!owner_.emplace(message_id, sender).second) return;
  order_.push_back(message_id);
  if (order_.size() > capacity_) {
    owner_.erase(order_.front());
    order_.pop_front();
  }
}

std::optional<std::string> SubmitterIndex::submitter(const std::string& message_id) const {
  std::lock_guard lock(mutex_);
  const auto it = owner_.find(message_id);
  if (it == owner_.end()) return std::nullopt;
  return it->second;
}

}  // namespace xoev::auth
