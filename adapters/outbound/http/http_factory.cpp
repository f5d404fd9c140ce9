// Registers the http adapter: parses and checks its keys, builds it.
#include <openssl/crypto.h>

#include "adapters/outbound/http/http_adapter.h"
#include "adapters/outbound/http/http_settings.h"
#include "gateway/config/outbound_registry.h"
#include "gateway/http/http_client.h"
#include "gateway/http/url.h"

namespace xoev {

namespace {

class HttpAdapterFactory final : public OutboundAdapterFactory {
 public:
  std::string_view type() const override { return "http"; }
  std::vector<std::string> keys() const override {
    return {"url", "timeout", "tls_ca", "tls_certificate", "tls_private_key", "hmac_secret_file", "hmac_secret",
            "max_in_flight"};
  }

  std::shared_ptr<const AdapterSettings> parse(config_detail::YamlReader& r, const YAML::Node& n) const override {
    auto s = std::make_shared<HttpSettings>();
    s->url = r.str(n, "url", "", true);
    if (!s->url.empty())
      if (auto u = http::Url::parse(s->url); !u) r.error(n["url"], "url: " + u.problem().detail);
    s->timeout = r.millis(n, "timeout", s->timeout);
    if (s->timeout < std::chrono::milliseconds(100)) r.error(n["timeout"], "timeout must be at least 100ms");
    s->max_in_flight = static_cast<int>(r.integer(n, "max_in_flight", s->max_in_flight, 1, kMaxHttpInFlight));
    s->tls_ca = r.path(n, "tls_ca", false);
    s->tls_certificate = r.path(n, "tls_certificate", false);
    s->tls_private_key = r.path(n, "tls_private_key", false);
    if (s->tls_certificate.empty() != s->tls_private_key.empty())
      r.error(n, "tls_certificate and tls_private_key go together (the client certificate for mutual TLS)");
    s->hmac_secret_file = r.path(n, "hmac_secret_file", false);
    if (n["hmac_secret"]) {
      if (n["hmac_secret_file"]) r.error(n, "give hmac_secret or hmac_secret_file, not both");
      s->hmac_secret = r.env_value(n["hmac_secret"], r.str(n, "hmac_secret", ""), "hmac_secret").value_or("");
      if (!s->hmac_secret.empty() && s->hmac_secret.size() < kMinHmacSecretBytes)
        r.error(n["hmac_secret"], "hmac_secret is shorter than " + std::to_string(kMinHmacSecretBytes) + " bytes");
    }
    return s;
  }

  void check(const DestinationSection& d, std::vector<Problem>& problems) const override {
    const auto& s = d.adapter.as<HttpSettings>();
    if (!s.hmac_secret_file.empty()) {
      if (auto secret = read_hmac_secret(s.hmac_secret_file); !secret)
        problems.push_back(Problem(secret.problem()).at(d.adapter.where));
      else
        OPENSSL_cleanse(secret->data(), secret->size());
    }
    // The client loads the CA and the certificate as start-up would.
    if (auto client = http::HttpClient::create(http_client_options(s)); !client)
      problems.push_back(Problem::make(ProblemKind::config_invalid,
                                       "destination '" + d.id + "': " + client.problem().detail)
                             .at(d.adapter.where));
  }

  Result<OutboundAdapterPtr> create(const DestinationSection& d) const override {
    return make_http_adapter(d.adapter.as<HttpSettings>());
  }
};

XOEVGATE_OUTBOUND_ADAPTER(HttpAdapterFactory);

}  // namespace
}  // namespace xoev
