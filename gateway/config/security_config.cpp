#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <system_error>

#include "gateway/config/listen_check.h"
#include "gateway/config/security_config_reader.h"

namespace xoev {

const SenderSection* SecuritySection::sender(std::string_view id) const {
  for (const auto& s : senders)
    if (s.id == id) return &s;
  return nullptr;
}

bool SecuritySection::is_admin(std::string_view id) const {
  return std::find(admins.begin(), admins.end(), id) != admins.end();
}

namespace config_detail {

namespace {

void require_file(YamlReader& r, const YAML::Node& at, const std::filesystem::path& p, const std::string& what) {
  std::error_code ec;
  if (!p.empty() && !std::filesystem::is_regular_file(p, ec)) r.error(at, what + " '" + p.string() + "' does not exist");
}

}  // namespace

std::string normalize_fingerprint(const std::string& text) {
  std::string hex;
  for (char c : text)
    if (c != ':') hex += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (hex.size() != 64 || hex.find_first_not_of("0123456789ABCDEF") != std::string::npos) return {};
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    if (i) out += ':';
    out += hex.substr(i, 2);
  }
  return out;
}

std::optional<TlsSection> read_tls_section(YamlReader& r, const YAML::Node& n, const std::string& what) {
  if (!r.is_map(n, what)) return std::nullopt;
  r.only_keys(n, {"certificate", "private_key", "client_ca"}, what);
  TlsSection tls;
  tls.certificate = r.path(n, "certificate", true);
  tls.private_key = r.path(n, "private_key", true);
  require_file(r, n["certificate"], tls.certificate, "TLS certificate");
  require_file(r, n["private_key"], tls.private_key, "TLS private key");
  if (n["client_ca"]) {
    tls.client_ca = r.path(n, "client_ca", true);
    require_file(r, n["client_ca"], tls.client_ca, "TLS client CA");
  }
  return tls;
}

namespace {

void read_may_send(YamlReader& r, const YAML::Node& n, SenderSection& s) {
  if (!n) return;
  if (!n.IsSequence()) return r.error(n, "may_send must be a list of {standard, message_type, reader}");
  for (const auto& item : n) {
    if (!r.is_map(item, "a may_send rule")) continue;
    r.only_keys(item, {"standard", "message_type", "reader"}, "may_send");
    MaySendRule rule;
    rule.standard = r.str(item, "standard", "*");
    rule.message_type = r.str(item, "message_type", "*");
    rule.reader = r.str(item, "reader", "*");
    rule.where = r.where(item);
    s.may_send.push_back(std::move(rule));
  }
}

std::vector<std::string> read_strings(YamlReader& r, const YAML::Node& n, const std::string& what) {
  std::vector<std::string> out;
  if (!n) return out;
  if (!n.IsSequence()) {
    r.error(n, what + " must be a list of strings");
    return out;
  }
  for (const auto& item : n) {
    if (!item.IsScalar()) r.error(item, what + " must be a list of strings");
    else out.push_back(item.as<std::string>());
  }
  return out;
}

void read_sender(YamlReader& r, const YAML::Node& n, SecuritySection& out) {
  if (!r.is_map(n, "a sender")) return;
  r.only_keys(n,
              {"id", "client_certificate_sha256", "client_certificate_subject", "jwt", "client_id", "client_secret_hash",
               "may_send", "may_speak_for", "rate_limit_per_second"},
              "sender");
  SenderSection s;
  s.where = r.where(n);
  s.id = r.str(n, "id", "", true);
  static const std::regex id_re(R"(^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$)");
  if (!s.id.empty() && !std::regex_match(s.id, id_re))
    r.error(n["id"], "sender id '" + s.id + "' must be letters, digits, '.', '_', '@', '-' (at most 128)");
  if (out.sender(s.id)) r.error(n["id"], "sender id '" + s.id + "' is defined twice");
  if (n["client_certificate_sha256"]) {
    s.client_certificate_sha256 = normalize_fingerprint(r.str(n, "client_certificate_sha256", ""));
    if (s.client_certificate_sha256.empty())
      r.error(n["client_certificate_sha256"], "client_certificate_sha256 must be 32 bytes as hex (AB:CD:… as openssl x509 -fingerprint -sha256 prints)");
  }
  s.client_certificate_subject = r.str(n, "client_certificate_subject", "");
  if (const auto j = n["jwt"]; j && r.is_map(j, "jwt")) {
    r.only_keys(j, {"issuer", "audience", "jwks"}, "jwt");
    JwtTrustSection trust;
    trust.issuer = r.str(j, "issuer", "", true);
    trust.audience = r.str(j, "audience", "", true);
    trust.jwks = r.path(j, "jwks", true);
    require_file(r, j["jwks"], trust.jwks, "JWKS file");
    s.jwt = std::move(trust);
  }
  s.client_id = r.str(n, "client_id", "");
  s.client_secret_hash = r.str(n, "client_secret_hash", "");
  if (s.client_id.empty() != s.client_secret_hash.empty())
    r.error(n, "sender '" + s.id + "': client_id and client_secret_hash go together");
  static const std::regex hash_re(R"(^pbkdf2-sha256\$[0-9]{5,9}\$[A-Za-z0-9_-]{16,}\$[A-Za-z0-9_-]{43}$)");
  if (!s.client_secret_hash.empty() && !std::regex_match(s.client_secret_hash, hash_re))
    r.error(n["client_secret_hash"],
            "client_secret_hash must be pbkdf2-sha256$ITERATIONS(>=10000)$SALT$HASH (base64url; never the secret itself)");
  else if (!s.client_secret_hash.empty()) {
    const auto iterations = std::stoll(s.client_secret_hash.substr(14, s.client_secret_hash.find('$', 14) - 14));
    if (iterations < 10000) r.error(n["client_secret_hash"], "client_secret_hash needs at least 10000 PBKDF2 iterations");
  }
  if (s.client_certificate_sha256.empty() && s.client_certificate_subject.empty() && !s.jwt && s.client_id.empty())
    r.error(n, "sender '" + s.id + "' has no credential: give client_certificate_sha256/subject, jwt or client_id");
  read_may_send(r, n["may_send"], s);
  s.may_speak_for = read_strings(r, n["may_speak_for"], "may_speak_for");
  s.rate_limit_per_second = 0;
  if (n["rate_limit_per_second"]) {
    try {
      s.rate_limit_per_second = n["rate_limit_per_second"].as<double>();
    } catch (const YAML::Exception&) {
      r.error(n["rate_limit_per_second"], "rate_limit_per_second must be a number");
    }
    if (s.rate_limit_per_second < 0) r.error(n["rate_limit_per_second"], "rate_limit_per_second must not be negative");
  }
  out.senders.push_back(std::move(s));
}

}  // namespace

bool is_loopback_listen(const std::string& listen) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

void read_security(YamlReader& r, const YAML::Node& root, const std::string& listen, SecuritySection& out) {
  const YAML::Node gateway = root["gateway"];
  if (gateway && gateway.IsMap()) {
    if (gateway["tls"]) out.tls = read_tls_section(r, gateway["tls"], "gateway.tls");
    out.allow_plaintext = r.boolean(gateway, "allow_plaintext", false);
  }
  if (!out.tls && !out.allow_plaintext && is_listen_address(listen) && !is_loopback_listen(listen))
    r.error(gateway && gateway["listen"] ? gateway["listen"] : root,
            "gateway.listen '" + listen + "' is not a loopback address but gateway.tls is not configured: give "
            "gateway.tls {certificate, private_key}, or set gateway.allow_plaintext: true behind a TLS-terminating proxy");
  if (const auto s = root["senders"]; s) {
    if (!s.IsSequence()) r.error(s, "senders must be a list");
    else
      for (const auto& item : s) read_sender(r, item, out);
  }
  out.admins = read_strings(r, root["admins"], "admins");
  for (const auto& a : out.admins)
    if (!out.sender(a)) r.error(root["admins"], "admin '" + a + "' is not a sender id");
  if (const auto t = root["tokens"]; t && r.is_map(t, "tokens")) {
    r.only_keys(t, {"issuer", "lifetime", "clock_skew"}, "tokens");
    out.token_issuer = r.str(t, "issuer", out.token_issuer);
    out.token_lifetime = std::chrono::duration_cast<std::chrono::seconds>(r.millis(t, "lifetime", out.token_lifetime));
    out.clock_skew = std::chrono::duration_cast<std::chrono::seconds>(r.millis(t, "clock_skew", out.clock_skew));
    if (out.token_lifetime < std::chrono::seconds(60) || out.token_lifetime > std::chrono::minutes(30))
      r.error(t["lifetime"], "tokens.lifetime must be between 1m and 30m");
    if (out.clock_skew > std::chrono::minutes(5)) r.error(t["clock_skew"], "tokens.clock_skew must be at most 5m");
  }
  if (const auto a = root["audit"]; a && r.is_map(a, "audit")) {
    r.only_keys(a, {"file"}, "audit");
    out.audit_file = r.path(a, "file", true);
  }
}

}  // namespace config_detail
}  // namespace xoev
