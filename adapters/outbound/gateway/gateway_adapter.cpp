#include "adapters/outbound/gateway/gateway_adapter.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gateway/core/trace_context.h"
#include "gateway/delivery/hand_over.h"
#include "gateway/http/url.h"

namespace xoev {
namespace {

std::chrono::milliseconds retry_after(const http::HttpClientResponse& r) {
  const std::string ra = r.header("Retry-After");
  if (!ra.empty() && ra.size() < 6 && std::all_of(ra.begin(), ra.end(), ::isdigit))
    return std::chrono::seconds(std::stoi(ra));
  return std::chrono::milliseconds(0);
}

// "problem-slug: detail" from an RFC 9457 answer, else the start of the body.
std::string peer_problem(const http::HttpClientResponse& r) {
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object()) {
    std::string slug = j.value("type", std::string());
    if (const auto slash = slug.find_last_of(":/"); slash != std::string::npos) slug = slug.substr(slash + 1);
    const std::string title = j.value("title", std::string());
    const std::string detail = j.value("detail", std::string());
    std::string out = slug.empty() ? title : slug;
    if (!detail.empty()) out += (out.empty() ? "" : ": ") + detail;
    if (!out.empty()) return out.substr(0, 500);
  }
  return r.body.substr(0, 300);
}

class GatewayAdapter final : public OutboundAdapter, public HandOver {
 public:
  GatewayAdapter(const GatewaySettings& s, http::Url url, http::HttpClient client)
      : base_(s.url), peer_(url.authority()), client_(std::move(client)), token_file_(s.token_file) {
    timing_.first = s.status_poll_interval;
    timing_.max_interval = s.status_poll_max_interval;
    timing_.give_up_after = s.status_follow_up_for;
  }
  std::string_view type() const override { return "gateway"; }

  DeliveryOutcome deliver(const DeliveredMessage& m) override {
    http::HttpClientRequest req;
    req.method = "POST";
    req.url = base_ + "/v1/messages";
    req.body = m.body;
    req.headers = {{"Content-Type", "application/xml"}, {"Accept", "application/json"}};
    // The peer continues the sender's trace.
    if (is_valid_traceparent(m.traceparent)) req.headers.emplace_back("traceparent", m.traceparent);
    if (auto auth = authorization(); !auth) return Retry{{}, auth.problem().detail};
    else if (!auth->empty()) req.headers.emplace_back("Authorization", *auth);
    auto resp = client_.send(req);
    if (!resp) return Retry{{}, "peer gateway " + peer_ + " not reached: " + resp.problem().detail};
    const int s = resp->status;
    const std::string what = "peer gateway " + peer_ + " answered HTTP " + std::to_string(s);
    if (s == 202 || s == 200) {
      const auto j = nlohmann::json::parse(resp->body, nullptr, false);
      const std::string at_peer = j.is_object() ? j.value("destination", std::string()) : std::string();
      const std::string id = j.is_object() ? j.value("messageId", std::string()) : std::string();
      // The peer reads the id from the XML as we did; another id would make the follow-up ask about the wrong message.
      if (!id.empty() && id != m.message_id)
        return Reject{Problem::make(ProblemKind::rejected, what + " but for message id '" + id.substr(0, 64) + "'")};
      return Delivered{"accepted by peer gateway " + peer_ + (s == 200 ? " (already accepted before)" : "") +
                       (at_peer.empty() ? "" : " for its destination '" + at_peer + "'")};
    }
    // 401: credentials may be rotated on either side; 408/429/5xx: the peer may recover.
    if (s == 401 || s == 408 || s == 429 || s >= 500) return Retry{retry_after(*resp), what + ": " + peer_problem(*resp)};
    return Reject{Problem::make(ProblemKind::rejected, what + ": " + peer_problem(*resp))};
  }

  Result<HopStatus> ask_status(const std::string& message_id) override {
    http::HttpClientRequest req;
    req.method = "GET";
    req.url = base_ + "/v1/messages/" + message_id;
    req.headers = {{"Accept", "application/json"}};
    auto auth = authorization();
    if (!auth) return auth.problem();
    if (!auth->empty()) req.headers.emplace_back("Authorization", *auth);
    auto resp = client_.send(req);
    if (!resp) return Problem::make(ProblemKind::io_error, "peer gateway " + peer_ + " not reached: " + resp.problem().detail);
    // 404: the peer's status has not caught up with its acceptance yet (or it forgot).
    if (resp->status == 404) return HopStatus{std::nullopt, "not yet known at peer gateway " + peer_};
    if (resp->status != 200)
      return Problem::make(ProblemKind::io_error, "peer gateway " + peer_ + " answered HTTP " +
                                                      std::to_string(resp->status) + ": " + peer_problem(*resp));
    const auto j = nlohmann::json::parse(resp->body, nullptr, false);
    if (!j.is_object() || !j.contains("status") || !j["status"].is_string())
      return Problem::make(ProblemKind::io_error, "peer gateway " + peer_ + " sent a status without 'status'");
    const auto status = parse_status(j["status"].get<std::string>());
    if (!status) return Problem::make(ProblemKind::io_error, "peer gateway " + peer_ + " sent an unknown status");
    HopStatus out;
    if (is_terminal(*status)) out.final_status = *status;
    const std::string destination = j.value("destination", std::string());
    const std::string detail = j.contains("detail") && j["detail"].is_string() ? j["detail"].get<std::string>() : "";
    out.detail = "at peer gateway " + peer_ + (destination.empty() ? "" : " (destination '" + destination + "')") +
                 ": " + std::string(to_string(*status)) + (detail.empty() ? "" : " — " + detail.substr(0, 400));
    return out;
  }

  FollowUpTiming follow_up_timing() const override { return timing_; }

 private:
  // Read per request, so a rotated token file takes effect without a restart.
  Result<std::string> authorization() const {
    if (token_file_.empty()) return std::string();
    auto token = read_peer_token(token_file_);
    if (!token) return token.problem();
    std::string header = "Bearer " + *token;
    OPENSSL_cleanse(token->data(), token->size());
    return header;
  }

  std::string base_;
  std::string peer_;  // host:port, for details (no path, no secrets)
  http::HttpClient client_;
  std::filesystem::path token_file_;
  FollowUpTiming timing_;
};

}  // namespace

Result<std::string> read_peer_token(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Problem::make(ProblemKind::config_invalid, "cannot read token_file " + file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token = ss.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty() || token.find_first_of("\r\n", 0) != std::string::npos)
    return Problem::make(ProblemKind::config_invalid, "token_file " + file.string() + " holds no single-line token");
  return token;
}

http::HttpClient::Options gateway_client_options(const GatewaySettings& s) {
  http::HttpClient::Options o;
  o.connect_timeout = std::min(s.timeout, std::chrono::milliseconds(5000));
  o.total_timeout = s.timeout;
  o.ca_file = s.tls_ca.string();
  o.client_certificate = s.tls_certificate.string();
  o.client_key = s.tls_private_key.string();
  o.max_response_bytes = 1u << 20;  // answers are small JSON documents
  return o;
}

Result<OutboundAdapterPtr> make_gateway_adapter(const GatewaySettings& s) {
  auto url = http::Url::parse(s.url);
  if (!url) return url.problem();
  auto client = http::HttpClient::create(gateway_client_options(s));
  if (!client) return client.problem();
  return OutboundAdapterPtr(std::make_unique<GatewayAdapter>(s, std::move(url).value(), std::move(client).value()));
}

}  // namespace xoev
