#include "gateway/callbacks/callback_dispatcher.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "gateway/core/text.h"
#include "gateway/core/trace_context.h"
#include "gateway/crypto/hmac_signature.h"
#include "gateway/http/http_client.h"
#include "gateway/kafka/consumer.h"
#include "gateway/kafka/topic_names.h"
#include "gateway/core/routing_fields.h"
#include "gateway/status/receipt_signature.h"

namespace xoev {

bool has_callbacks(const Config& config) {
  for (const auto& r : config.routes)
    if (!r.callback_url.empty()) return true;
  return false;
}

CallbackDispatcher::CallbackDispatcher(KafkaConnection connection, SnapshotHolder& snapshots, crypto::KeyRing trusted)
    : snapshots_(snapshots), trusted_(std::move(trusted)) {
  service_ = std::make_unique<ConsumerService>(
      "callbacks",
      [connection = std::move(connection)]() -> Result<std::unique_ptr<RecordSource>> {
        // A new group starts at the beginning, so no receipt is missed while it joins.
        auto c = Consumer::create(connection, names::callbacks_group(), {std::string(names::kReceiptsTopic)}, true);
        if (!c) return c.problem();
        return std::unique_ptr<RecordSource>(std::move(c).value());
      },
      [this](RecordSource& receipts, std::stop_token stop) { run(receipts, stop); });
}

std::string CallbackDispatcher::secret(const fs::path& file) {
  auto it = secrets_.find(file);
  if (it != secrets_.end()) return it->second;
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return secrets_[file] = s;
}

bool CallbackDispatcher::post(const RouteSection& route, const std::string& message_id, const std::string& traceparent,
                              const std::string& body,
                              const std::stop_token& stop) {
  http::HttpClient::Options o;
  o.total_timeout = std::chrono::seconds(10);
  auto client = http::HttpClient::create(o);
  if (!client) return false;
  std::chrono::milliseconds wait{200};
  for (int attempt = 1; attempt <= 5 && !stop.stop_requested(); ++attempt) {
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    http::HttpClientRequest req;
    req.method = "POST";
    req.url = route.callback_url;
    req.body = body;
    req.headers = {{"Content-Type", "application/json"},
                   {"X-Xoev-Message-Id", message_id},
                   {"X-Xoev-Signature", hmac_signature(route.callback_secret.empty() ? secret(route.callback_secret_file) : route.callback_secret, now, body)}};
    if (is_valid_traceparent(traceparent)) req.headers.emplace_back("traceparent", traceparent);
    auto resp = client->send(req);
    if (resp && resp->status >= 200 && resp->status < 300) return true;
    spdlog::warn("callback for {} to {} failed (attempt {}): {}", message_id, route.callback_url, attempt,
                 resp ? "HTTP " + std::to_string(resp->status) : resp.problem().detail);
    sleep_unless_stopped(stop, wait);
    wait = std::min(wait * 3, std::chrono::milliseconds(5000));
  }
  return false;
}

bool CallbackDispatcher::first_time(const Receipt& r) {
  std::string step = r.message_id + '\n' + std::string(to_string(r.status)) + '\n' + r.at;
  if (!recent_steps_.insert(step).second) return false;
  recent_order_.push_back(std::move(step));
  if (recent_order_.size() > kRecentSteps) {
    recent_steps_.erase(recent_order_.front());
    recent_order_.pop_front();
  }
  return true;
}

// Verifying a receipt is an ECDSA check, and every message has three; only a receipt
// of a route with a callback can lead to one. The route named by a record not yet
// verified only decides whether to look closer: nothing unverified is acted upon.
bool may_call_back(const Config& config, const std::string& receipt_json) {
  if (!has_callbacks(config)) return false;
  auto claimed = Receipt::from_json(receipt_json);
  if (!claimed) return true;  // verify_receipt says what is wrong with it
  for (const auto& route : config.routes)
    if (route.name == claimed->route && !route.callback_url.empty()) return true;
  return false;
}

void CallbackDispatcher::run(RecordSource& receipts, const std::stop_token& stop) {
  // Offsets of receipts passed over are committed together (at most every second, and
  // when nothing is waiting): one commit per receipt was a broker round trip each.
  std::map<std::pair<std::string, int32_t>, ConsumedRecord> passed_over;
  auto last_commit = std::chrono::steady_clock::now();
  auto commit_passed_over = [&] {
    for (const auto& [where, position] : passed_over) (void)receipts.commit(position);
    passed_over.clear();
    last_commit = std::chrono::steady_clock::now();
  };
  while (!stop.stop_requested()) {
    if (!passed_over.empty() && std::chrono::steady_clock::now() - last_commit > std::chrono::seconds(1))
      commit_passed_over();
    auto polled = receipts.poll(std::chrono::milliseconds(passed_over.empty() ? 200 : 0));
    if (!polled || !polled->has_value()) {
      if (!passed_over.empty()) commit_passed_over();
      continue;
    }
    const ConsumedRecord& record = **polled;
    if (!may_call_back(snapshots_.get()->config(), record.env.value)) {
      ConsumedRecord& position = passed_over[{record.env.topic, record.partition}];
      position.env.topic = record.env.topic;
      position.partition = record.partition;
      position.offset = record.offset;
      continue;
    }
    auto receipt = verify_receipt(record.env, trusted_);
    if (!receipt)  // counted and logged at warn by the receipts tracker, which reads every record too
      spdlog::debug("callbacks: skipping an unverified record at {}/{}/{} (key \"{}\"): {}", names::kReceiptsTopic,
                    record.partition, record.offset, printable(record.env.key), receipt.problem().detail);
    // A gateway that restates the whole status (its receipt came after a deliverer's,
    // ingest_pipeline.h) repeats a step the sender was already told of.
    if (receipt && !receipt->route.empty() && first_time(*receipt)) {
      const auto snap = snapshots_.get();
      for (const auto& route : snap->config().routes) {
        if (route.name != receipt->route || route.callback_url.empty()) continue;
        // The sender learns the outcome, not the server's paths.
        Receipt shown = *receipt;
        shown.detail = without_paths(shown.detail);
        if (post(route, receipt->message_id, receipt->traceparent, shown.to_json(), stop)) ++sent_;
        else if (stop.stop_requested()) return;  // uncommitted: the group's next member sends it
        else {
          ++failed_;
          spdlog::error("callback for {} ({}) to {} given up after 5 attempts", receipt->message_id,
                        to_string(receipt->status), route.callback_url);
        }
      }
    }
    passed_over.erase({record.env.topic, record.partition});  // this commit covers them
    (void)receipts.commit(record);
  }
  if (!passed_over.empty()) commit_passed_over();
}

}  // namespace xoev
