#include "gateway/status/receipt.h"

#include <nlohmann/json.hpp>

namespace xoev {

std::string_view to_string(ReceiptStatus s) {
  switch (s) {
    case ReceiptStatus::accepted: return "accepted";
    case ReceiptStatus::forwarded: return "forwarded";
    case ReceiptStatus::failed: return "failed";
    case ReceiptStatus::delivered: return "delivered";
    case ReceiptStatus::rejected: return "rejected";
    case ReceiptStatus::dead_lettered: return "dead-lettered";
  }
  return "accepted";
}

std::optional<ReceiptStatus> parse_status(std::string_view s) {
  for (auto st : {ReceiptStatus::accepted, ReceiptStatus::forwarded, ReceiptStatus::failed, ReceiptStatus::delivered,
                  ReceiptStatus::rejected, ReceiptStatus::dead_lettered})
    if (to_string(st) == s) return st;
  return std::nullopt;
}

bool is_terminal(ReceiptStatus s) {
  return s == ReceiptStatus::delivered || s == ReceiptStatus::rejected || s == ReceiptStatus::dead_lettered;
}

int transport_status(ReceiptStatus s) {
  switch (s) {
    case ReceiptStatus::delivered: return 0;
    case ReceiptStatus::accepted:
    case ReceiptStatus::forwarded: return 1;
    case ReceiptStatus::failed: return 2;
    case ReceiptStatus::rejected:
    case ReceiptStatus::dead_lettered: return 3;
  }
  return 1;
}

std::string Receipt::to_json() const {
  nlohmann::json j = {{"messageId", message_id}, {"destination", destination}, {"status", std::string(to_string(status))},
                      {"at", at}, {"detail", detail}};
  if (!standard.empty()) j["standard"] = standard;
  if (!message_type.empty()) j["messageType"] = message_type;
  if (!route.empty()) j["route"] = route;
  if (!traceparent.empty()) j["traceparent"] = traceparent;
  if (!routing_version.empty()) j["routingVersion"] = routing_version;
  if (!sender.empty()) j["sender"] = sender;
  if (size > 0) j["size"] = size;
  if (chunks > 0) j["chunks"] = chunks;
  if (!history.empty()) {
    auto h = nlohmann::json::array();
    for (const auto& [st, t] : history) h.push_back({{"status", std::string(to_string(st))}, {"at", t}});
    j["history"] = std::move(h);
  }
  return j.dump();
}

Result<Receipt> Receipt::from_json(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Problem::make(ProblemKind::bad_request, "receipt is not a JSON object");
  auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string{}; };
  Receipt r;
  r.message_id = str("messageId");
  r.destination = str("destination");
  r.at = str("at");
  r.detail = str("detail");
  r.standard = str("standard");
  r.message_type = str("messageType");
  r.route = str("route");
  r.traceparent = str("traceparent");
  r.routing_version = str("routingVersion");
  r.sender = str("sender");
  auto count = [&](const char* k) -> uint64_t {
    return j.contains(k) && j[k].is_number_unsigned() ? j[k].get<uint64_t>() : 0;
  };
  r.size = count("size");
  r.chunks = count("chunks");
  const auto st = parse_status(str("status"));
  if (r.message_id.empty() || !st) return Problem::make(ProblemKind::bad_request, "receipt lacks messageId or a known status");
  r.status = *st;
  if (j.contains("history") && j["history"].is_array())
    for (const auto& h : j["history"]) {
      if (!h.is_object() || !h.contains("status") || !h["status"].is_string() || !h.contains("at") || !h["at"].is_string())
        continue;
      if (auto hs = parse_status(h["status"].get<std::string>())) r.history.emplace_back(*hs, h["at"].get<std::string>());
    }
  return r;
}

}  // namespace xoev
