#include "adapters/outbound/http/http_adapter.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "gateway/core/trace_context.h"
#include "gateway/http/http_client.h"

namespace xoev {
namespace {

class HttpAdapter final : public OutboundAdapter {
 public:
  HttpAdapter(std::string url, const http::HttpClient& client, std::string secret, int max_in_flight)
      : url_(std::move(url)), secret_(std::move(secret)), max_in_flight_(max_in_flight) {
    for (int i = 0; i < max_in_flight; ++i) connections_.push_back(std::make_unique<http::HttpConnection>(client));
  }
  ~HttpAdapter() override { OPENSSL_cleanse(secret_.data(), secret_.size()); }
  std::string_view type() const override { return "http"; }
  bool streams_files() const override { return true; }  // a large message is sent from its file
  // With max_in_flight > 1 the loop hands over groups, sent concurrently and recorded in
  // the ledger together afterwards: a kill -9 may then repeat a whole group, each
  // request with its Idempotency-Key (README, "HTTP adapter"). With 1, one at a time.
  bool delivers_groups() const override { return max_in_flight_ > 1; }

  // A group's messages have distinct ids (the loop sees to it), so no two share a key
  // and none may wait for another: up to max_in_flight_ requests run at once, and every
  // message gets its own outcome.
  std::vector<DeliveryOutcome> deliver_group(const std::vector<const DeliveredMessage*>& messages) override {
    std::vector<DeliveryOutcome> outcomes(messages.size(), DeliveryOutcome{Retry{}});
    std::atomic<size_t> next{0};
    // Worker w sends on connections_[w]: each keep-alive connection has one user.
    auto work = [&](size_t w) {
      for (size_t i = next++; i < messages.size(); i = next++) outcomes[i] = send(*connections_[w], *messages[i]);
    };
    const size_t helpers = std::min<size_t>(messages.size(), static_cast<size_t>(max_in_flight_)) - 1;
    std::vector<std::jthread> threads;
    threads.reserve(helpers);
    for (size_t h = 0; h < helpers; ++h) threads.emplace_back(work, h + 1);
    work(0);
    threads.clear();  // joins
    return outcomes;
  }

  // The loop's thread: the first connection (deliver_group's own thread uses it too, never at once).
  DeliveryOutcome deliver(const DeliveredMessage& m) override { return send(*connections_[0], m); }

 private:
  DeliveryOutcome send(http::HttpConnection& connection, const DeliveredMessage& m) {
    http::HttpClientRequest req;
    req.method = "POST";
    req.url = url_;
    if (m.body_file.empty()) req.body = m.body;
    req.headers = {{"Content-Type", "application/xml"},
                   {"Idempotency-Key", m.message_id},
                   {"X-Xoev-Message-Id", m.message_id},
                   {"X-Xoev-Message-Type", m.message_type},
                   {"X-Xoev-Standard", m.standard},
                   {"X-Xoev-Sender", m.sender},
                   {"X-Xoev-Recipient", m.recipient},
                   {"X-Xoev-Attempt", std::to_string(m.attempt)}};
    // W3C trace context, so the target's traces continue the sender's.
    if (is_valid_traceparent(m.traceparent)) req.headers.emplace_back("traceparent", m.traceparent);
    if (!secret_.empty()) {
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
      if (m.body_file.empty()) {
        req.headers.emplace_back("X-Xoev-Signature", hmac_signature(secret_, now, m.body));
      } else {
        auto signature = hmac_signature_of_file(secret_, now, m.body_file);
        if (!signature) return Retry{{}, signature.problem().detail};
        req.headers.emplace_back("X-Xoev-Signature", std::move(signature).value());
      }
    }
    // Values come from signed, checked headers; a control character here means a
    // record that should never have been sealed. Refuse rather than split a header.
    for (const auto& [name, value] : req.headers)
      if (value.find_first_of("\r\n", 0) != std::string::npos || value.find('\0') != std::string::npos)
        return Reject{Problem::make(ProblemKind::rejected, "header " + name + " would carry a control character")};
    auto resp = m.body_file.empty() ? connection.send(req)
                                    : connection.send(req, http::HttpClientFileBody{m.body_file.string(), {}});
    if (!resp) return Retry{{}, resp.problem().detail};
    const int s = resp->status;
    const std::string what = "HTTP " + std::to_string(s) + " from " + url_;
    if (s >= 200 && s < 300) return Delivered{what};
    if (s == 408 || s == 429 || s >= 500) {
      std::chrono::milliseconds after{0};
      const std::string ra = resp->header("Retry-After");
      if (!ra.empty() && std::all_of(ra.begin(), ra.end(), ::isdigit) && ra.size() < 6)
        after = std::chrono::seconds(std::stoi(ra));
      return Retry{after, what};
    }
    return Reject{Problem::make(ProblemKind::rejected, what + ": " + resp->body.substr(0, 300))};
  }

  std::string url_;
  std::string secret_;
  const int max_in_flight_;
  // One keep-alive connection per request in flight (no TCP or TLS handshake per message).
  std::vector<std::unique_ptr<http::HttpConnection>> connections_;
};

}  // namespace

Result<std::string> read_hmac_secret(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Problem::make(ProblemKind::config_invalid, "cannot read hmac_secret_file " + file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string secret = ss.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.size() < kMinHmacSecretBytes) {
    OPENSSL_cleanse(secret.data(), secret.size());
    return Problem::make(ProblemKind::config_invalid, "hmac secret in " + file.string() + " is shorter than " +
                                                          std::to_string(kMinHmacSecretBytes) + " bytes");
  }
  return secret;
}

http::HttpClient::Options http_client_options(const HttpSettings& s) {
  http::HttpClient::Options o;
  o.connect_timeout = std::min(s.timeout, std::chrono::milliseconds(5000));
  o.total_timeout = s.timeout;
  o.ca_file = s.tls_ca.string();
  o.client_certificate = s.tls_certificate.string();
  o.client_key = s.tls_private_key.string();
  return o;
}

Result<OutboundAdapterPtr> make_http_adapter(const HttpSettings& s) {
  auto client = http::HttpClient::create(http_client_options(s));
  if (!client) return client.problem();
  std::string secret = s.hmac_secret;
  if (!s.hmac_secret_file.empty()) {
    auto read = read_hmac_secret(s.hmac_secret_file);
    if (!read) return read.problem();
    secret = std::move(read).value();
  }
  return OutboundAdapterPtr(std::make_unique<HttpAdapter>(s.url, *client, std::move(secret), s.max_in_flight));
}

}  // namespace xoev
