// Registers the gateway adapter (forwarding to a peer xoevgate): parses and checks its
// keys, builds it.
#include <openssl/crypto.h>

#include "adapters/outbound/gateway/gateway_adapter.h"
#include "adapters/outbound/gateway/gateway_settings.h"
#include "gateway/config/outbound_registry.h"
#include "gateway/http/url.h"

namespace xoev {

namespace {

class GatewayAdapterFactory final : public OutboundAdapterFactory {
 public:
  std::string_view type() const override { return "gateway"; }
  std::vector<std::string> keys() const override {
    return {"url", "allow_plaintext", "tls", "token_file", "timeout", "status_poll_interval",
            "status_poll_max_interval", "status_follow_up_for"};
  }

  std::shared_ptr<const AdapterSettings> parse(config_detail::YamlReader& r, const YAML::Node& n) const override {
    auto s = std::make_shared<GatewaySettings>();
    s->url = r.str(n, "url", "", true);
    s->allow_plaintext = r.boolean(n, "allow_plaintext", false);
    if (!s->url.empty()) {
      while (!s->url.empty() && s->url.back() == '/') s->url.pop_back();
      if (auto u = http::Url::parse(s->url); !u)
        r.error(n["url"], "url: " + u.problem().detail);
      else if (!u->tls() && !s->allow_plaintext)
        r.error(n["url"], "url must be https:// (messages leave for another gateway); plain http only with "
                          "allow_plaintext: true, for tests on one machine");
    }
    if (const auto tls = n["tls"]; tls && r.is_map(tls, "gateway adapter tls")) {
      r.only_keys(tls, {"certificate", "private_key", "ca"}, "gateway adapter tls");
      s->tls_certificate = r.path(tls, "certificate", false);
      s->tls_private_key = r.path(tls, "private_key", false);
      s->tls_ca = r.path(tls, "ca", false);
      if (s->tls_certificate.empty() != s->tls_private_key.empty())
        r.error(tls, "tls certificate and private_key go together (this gateway's client certificate for the peer)");
      for (const auto& [key, file] : {std::pair{"certificate", s->tls_certificate}, std::pair{"private_key", s->tls_private_key},
                                      std::pair{"ca", s->tls_ca}}) {
        std::error_code ec;
        if (!file.empty() && !std::filesystem::is_regular_file(file, ec))
          r.error(tls[key], std::string("tls ") + key + " " + file.string() + " does not exist");
      }
    }
    s->token_file = r.path(n, "token_file", false);
    s->timeout = r.millis(n, "timeout", s->timeout);
    if (s->timeout < std::chrono::milliseconds(100)) r.error(n["timeout"], "timeout must be at least 100ms");
    s->status_poll_interval = r.millis(n, "status_poll_interval", s->status_poll_interval);
    s->status_poll_max_interval = r.millis(n, "status_poll_max_interval", s->status_poll_max_interval);
    s->status_follow_up_for = r.millis(n, "status_follow_up_for", s->status_follow_up_for);
    if (s->status_poll_interval < std::chrono::milliseconds(100))
      r.error(n["status_poll_interval"], "status_poll_interval must be at least 100ms");
    if (s->status_poll_max_interval < s->status_poll_interval)
      r.error(n["status_poll_max_interval"], "status_poll_max_interval must not be below status_poll_interval");
    if (s->status_follow_up_for < std::chrono::minutes(1))
      r.error(n["status_follow_up_for"], "status_follow_up_for must be at least 1m");
    return s;
  }

  void check(const DestinationSection& d, std::vector<Problem>& problems) const override {
    const auto& s = d.adapter.as<GatewaySettings>();
    if (!s.token_file.empty()) {
      if (auto token = read_peer_token(s.token_file); !token)
        problems.push_back(Problem(token.problem()).at(d.adapter.where));
      else
        OPENSSL_cleanse(token->data(), token->size());
    }
    // The client loads the CA and the certificate as start-up would.
    if (auto client = http::HttpClient::create(gateway_client_options(s)); !client)
      problems.push_back(Problem::make(ProblemKind::config_invalid,
                                       "destination '" + d.id + "': " + client.problem().detail)
                             .at(d.adapter.where));
  }

  Result<OutboundAdapterPtr> create(const DestinationSection& d) const override {
    return make_gateway_adapter(d.adapter.as<GatewaySettings>());
  }
};

XOEVGATE_OUTBOUND_ADAPTER(GatewayAdapterFactory);

}  // namespace
}  // namespace xoev
