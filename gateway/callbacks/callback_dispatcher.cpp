#include "gateway/callbacks/callback_dispatcher.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "adapters/outbound/http/http_adapter.h"
#include "gateway/http/http_client.h"
#include "gateway/kafka/consumer.h"
#include "gateway/status/receipt.h"

namespace xoev {

bool has_callbacks(const Config& config) {
  for (const auto& r : config.routes)
    if (!r.callback_url.empty()) return true;
  return false;
}

CallbackDispatcher::CallbackDispatcher(KafkaConnection connection, SnapshotHolder& snapshots)
    : connection_(std::move(connection)), snapshots_(snapshots) {}

CallbackDispatcher::~CallbackDispatcher() { stop(); }

void CallbackDispatcher::start() { thread_ = std::thread([this] { run(); }); }

void CallbackDispatcher::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
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

bool CallbackDispatcher::post(const RouteSection& route, const std::string& message_id, const std::string& body) {
  http::HttpClient::Options o;
  o.total_timeout = std::chrono::seconds(10);
  auto client = http::HttpClient::create(o);
  if (!client) return false;
  std::chrono::milliseconds wait{200};
  for (int attempt = 1; attempt <= 5 && !stop_; ++attempt) {
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    http::HttpClientRequest req;
    req.method = "POST";
    req.url = route.callback_url;
    req.body = body;
    req.headers = {{"Content-Type", "application/json"},
                   {"X-Xoev-Message-Id", message_id},
                   {"X-Xoev-Signature", hmac_signature(secret(route.callback_secret_file), now, body)}};
    auto resp = client->send(req);
    if (resp && resp->status >= 200 && resp->status < 300) return true;
    spdlog::warn("callback for {} to {} failed (attempt {}): {}", message_id, route.callback_url, attempt,
                 resp ? "HTTP " + std::to_string(resp->status) : resp.problem().detail);
    std::this_thread::sleep_for(wait);
    wait = std::min(wait * 3, std::chrono::milliseconds(5000));
  }
  return false;
}

void CallbackDispatcher::run() {
  std::unique_ptr<Consumer> consumer;
  while (!stop_ && !consumer) {
    // A new group starts at the beginning, so no receipt is missed while it joins.
    auto c = Consumer::create(connection_, "xoevgate.callbacks", {std::string(kReceiptsTopic)}, true);
    if (c) consumer = std::move(c).value();
    else std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  while (!stop_) {
    auto polled = consumer->poll(std::chrono::milliseconds(200));
    if (!polled || !polled->has_value()) continue;
    const ConsumedRecord& record = **polled;
    auto receipt = Receipt::from_json(record.env.value);
    if (receipt && !receipt->route.empty()) {
      const auto snap = snapshots_.get();
      for (const auto& route : snap->config().routes) {
        if (route.name != receipt->route || route.callback_url.empty()) continue;
        if (post(route, receipt->message_id, record.env.value)) ++sent_;
        else {
          ++failed_;
          spdlog::error("callback for {} ({}) to {} given up after 5 attempts", receipt->message_id,
                        to_string(receipt->status), route.callback_url);
        }
      }
    }
    (void)consumer->commit(record);
  }
  consumer->close();
}

}  // namespace xoev
