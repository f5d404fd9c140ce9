#include "gateway/status/status_store.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

namespace xoev {
namespace {

// Later steps outrank earlier ones; among equal rank the later timestamp wins, so a
// replayed dead letter that is then delivered shows "delivered".
int rank(ReceiptStatus s) {
  switch (s) {
    case ReceiptStatus::accepted: return 0;
    case ReceiptStatus::forwarded: return 1;
    case ReceiptStatus::failed: return 2;
    default: return 3;
  }
}

}  // namespace

nlohmann::json MessageStatus::to_json() const {
  auto hist = nlohmann::json::array();
  for (const auto& [s, at] : history) hist.push_back({{"status", std::string(to_string(s))}, {"at", at}});
  nlohmann::json j = {{"messageId", message_id},
                      {"destination", destination},
                      {"status", std::string(to_string(status))},
                      {"transportStatus", transport_status(status)},
                      {"history", std::move(hist)}};
  if (!detail.empty()) j["detail"] = detail;
  if (!routing_version.empty()) j["routingVersion"] = routing_version;
  if (size > 0) j["size"] = size;
  if (chunks > 0) j["chunks"] = chunks;
  return j;
}

nlohmann::json MessageStatus::accepted_answer() const {
  nlohmann::json j = {{"messageId", message_id}, {"destination", destination}, {"status", "accepted"},
                      {"standard", standard}, {"messageType", message_type}};
  if (size > 0) j["size"] = size;
  if (chunks > 0) j["chunks"] = chunks;
  return j;
}

void StatusStore::apply(const Receipt& r) {
  // Earlier steps carried along (for compacted topics) count like their own receipts.
  for (const auto& [status, at] : r.history) {
    Receipt step;
    step.message_id = r.message_id;
    step.destination = r.destination;
    step.status = status;
    step.at = at;
    apply(step);
  }
  std::lock_guard lock(mu_);
  auto [it, inserted] = by_id_.try_emplace(r.message_id);
  MessageStatus& m = it->second;
  if (inserted) {
    m.message_id = r.message_id;
    m.status = r.status;
    insertion_order_.push_back(r.message_id);
  }
  if (m.destination.empty()) m.destination = r.destination;
  if (!r.standard.empty()) m.standard = r.standard;
  if (!r.message_type.empty()) m.message_type = r.message_type;
  if (!r.routing_version.empty()) m.routing_version = r.routing_version;
  if (m.sender.empty()) m.sender = r.sender;  // the first word on it stays
  if (r.size > 0) m.size = r.size;
  if (r.chunks > 0) m.chunks = r.chunks;

  const auto entry = std::make_pair(r.status, r.at);
  if (std::find(m.history.begin(), m.history.end(), entry) != m.history.end()) return;
  m.history.push_back(entry);
  std::stable_sort(m.history.begin(), m.history.end(), [](const auto& a, const auto& b) { return a.second < b.second; });

  // Current status: highest rank, then latest time. The detail is that of the
  // receipt which decided it, so an older receipt never overwrites a newer reason.
  const auto* best = &m.history.front();
  for (const auto& h : m.history)
    if (rank(h.first) > rank(best->first) || (rank(h.first) == rank(best->first) && h.second >= best->second)) best = &h;
  m.status = best->first;
  if (*best == entry) m.detail = r.detail;

  while (by_id_.size() > max_entries_ && !insertion_order_.empty()) {
    by_id_.erase(insertion_order_.front());
    insertion_order_.pop_front();
  }
}

std::optional<MessageStatus> StatusStore::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

size_t StatusStore::size() const {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

std::vector<std::pair<ReceiptStatus, size_t>> StatusStore::counts() const {
  std::map<ReceiptStatus, size_t> c;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, m] : by_id_) ++c[m.status];
  }
  return {c.begin(), c.end()};
}

}  // namespace xoev
