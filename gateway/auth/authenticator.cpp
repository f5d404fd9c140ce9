#include "gateway/auth/authenticator.h"

#include <algorithm>
#include <cctype>

#include "gateway/auth/jwks_file.h"
#include "gateway/auth/jwt_verifier.h"
#include "gateway/auth/secret_hash.h"

namespace xoev::auth {

namespace {
Problem unauthenticated(std::string detail) { return Problem::make(ProblemKind::unauthenticated, std::move(detail)); }

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         });
}
}  // namespace

Result<std::shared_ptr<const Authenticator>> Authenticator::build(const SecuritySection& security,
                                                                  std::shared_ptr<const crypto::Jwk> token_key) {
  std::shared_ptr<Authenticator> a(new Authenticator());
  a->security_ = security;
  a->token_key_ = std::move(token_key);
  if (a->token_key_) {
    if (auto added = a->token_verify_keys_.add(a->token_key_->public_key()); !added) return std::move(added).problem();
  }
  for (const auto& s : security.senders) {
    if (!s.jwt) continue;
    auto ring = load_jwks_file(s.jwt->jwks);
    if (!ring) return std::move(ring).problem();
    a->issuer_keys_.emplace(s.id, std::move(ring).value());
  }
  return std::shared_ptr<const Authenticator>(std::move(a));
}

Identity Authenticator::identity_of(const SenderSection& sender, std::string method) const {
  return Identity{sender.id, security_.is_admin(sender.id), std::move(method)};
}

Result<Identity> Authenticator::authenticate(const http::HttpRequest& request,
                                             std::chrono::system_clock::time_point now) const {
  const std::string authorization = request.header("authorization");
  if (!authorization.empty()) {
    if (!starts_with_ci(authorization, "Bearer ")) return unauthenticated("the Authorization header must be 'Bearer <token>'");
    const std::string token = authorization.substr(7);
    if (auto known = verified_.find(token, now)) return *known;
    auto identity = from_bearer(token, now);
    if (identity) verified_.remember(token, *identity);
    return identity;
  }
  if (request.client_certificate) return from_certificate(*request.client_certificate);
  return unauthenticated("credentials are required: a bearer token (POST /v1/token) or a client certificate");
}

Result<Identity> Authenticator::from_bearer(const std::string& token, std::chrono::system_clock::time_point now) const {
  auto issuer = jwt_unverified_issuer(token);
  if (!issuer) return std::move(issuer).problem();
  if (*issuer == security_.token_issuer && token_key_) {
    auto claims = verify_jwt(token, token_verify_keys_, {security_.token_issuer, security_.token_issuer, security_.clock_skew}, now);
    if (!claims) return std::move(claims).problem();
    const auto* sender = security_.sender(claims->value("sub", ""));
    if (!sender || sender->client_id.empty()) return unauthenticated("bearer token: its sender is no longer configured");
    return identity_of(*sender, "token");
  }
  // An external IdP: try the senders that trust this issuer; the token's sub (or
  // client_id) picks one when several share an IdP.
  std::optional<Problem> first_failure;
  const SenderSection* matched = nullptr;
  for (const auto& s : security_.senders) {
    if (!s.jwt || s.jwt->issuer != *issuer) continue;
    auto claims = verify_jwt(token, issuer_keys_.at(s.id), {s.jwt->issuer, s.jwt->audience, security_.clock_skew}, now);
    if (!claims) {
      if (!first_failure) first_failure = claims.problem();
      continue;
    }
    const std::string subject = claims->value("sub", claims->value("client_id", ""));
    if (subject == s.id) return identity_of(s, "jwt");
    if (!matched) matched = &s;
  }
  if (matched) return identity_of(*matched, "jwt");
  if (first_failure) return *first_failure;
  return unauthenticated("bearer token: issuer \"" + *issuer + "\" is not trusted here");
}

Result<Identity> Authenticator::from_certificate(const http::PeerCertificate& cert) const {
  if (!cert.chained)
    return unauthenticated("the client certificate (" + cert.subject + ") does not chain to the configured client_ca: " +
                           cert.verify_error);
  for (const auto& s : security_.senders) {
    if (!s.client_certificate_sha256.empty() && s.client_certificate_sha256 == cert.sha256) return identity_of(s, "mtls");
    if (!s.client_certificate_subject.empty() && s.client_certificate_subject == cert.subject) return identity_of(s, "mtls");
  }
  return unauthenticated("the client certificate " + cert.subject + " (SHA-256 " + cert.sha256 +
                         ") is not registered for any sender");
}

Result<Authenticator::IssuedToken> Authenticator::issue_token(const std::string& client_id,
                                                              const std::string& client_secret,
                                                              std::chrono::system_clock::time_point now) const {
  const SenderSection* sender = nullptr;
  for (const auto& s : security_.senders)
    if (!s.client_id.empty() && s.client_id == client_id) sender = &s;
  // A hash is computed even for an unknown client, so timing does not tell which ids exist.
  static const std::string kDecoy = "pbkdf2-sha256$600000$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  const bool matches = secret_matches(client_secret, sender ? sender->client_secret_hash : kDecoy);
  if (!sender || !matches) return unauthenticated("unknown client_id or wrong client_secret");
  if (!token_key_) return Problem::make(ProblemKind::internal, "the gateway has no key to sign tokens with");
  const auto iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto lifetime = std::min<std::chrono::seconds>(security_.token_lifetime, std::chrono::minutes(30));
  nlohmann::json claims = {{"iss", security_.token_issuer}, {"aud", security_.token_issuer}, {"sub", sender->id},
                           {"client_id", client_id},      {"iat", iat},                   {"nbf", iat},
                           {"exp", iat + lifetime.count()}};
  auto token = sign_jwt(claims, *token_key_);
  if (!token) return std::move(token).problem();
  return IssuedToken{sender->id, std::move(token).value(), lifetime};
}

}  // namespace xoev::auth
