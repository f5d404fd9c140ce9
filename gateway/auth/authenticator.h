// Maps a request's credentials to a configured sender: a bearer JWT (the gateway's own
// from POST /v1/token, or an external IdP's via its JWKS) or a client certificate that
// chains to client_ca and is registered by fingerprint or subject. Built from one
// config; a reload builds a new one.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/auth/identity.h"
#include "gateway/auth/verified_token_cache.h"
#include "gateway/config/security_config.h"
#include "gateway/core/result.h"
#include "gateway/crypto/key_ring.h"
#include "gateway/http/http_request.h"

namespace xoev::auth {

class Authenticator {
 public:
  // `token_key`: the gateway's signing key (private), for its own tokens; may be null
  // when no sender uses client credentials.
  static Result<std::shared_ptr<const Authenticator>> build(const SecuritySection& security,
                                                            std::shared_ptr<const crypto::Jwk> token_key);

  bool enabled() const { return security_.authenticated(); }
  const SecuritySection& security() const { return security_; }

  // Problems are 401 (ProblemKind::unauthenticated) and say what was wrong.
  Result<Identity> authenticate(const http::HttpRequest& request, std::chrono::system_clock::time_point now) const;

  // POST /v1/token: checks the client credentials (slow: PBKDF2) and issues a token.
  struct IssuedToken {
    std::string sender, access_token;
    std::chrono::seconds expires_in;
  };
  Result<IssuedToken> issue_token(const std::string& client_id, const std::string& client_secret,
                                  std::chrono::system_clock::time_point now) const;

 private:
  Authenticator() = default;
  Identity identity_of(const SenderSection& sender, std::string method) const;
  Result<Identity> from_bearer(const std::string& token, std::chrono::system_clock::time_point now) const;
  Result<Identity> from_certificate(const http::PeerCertificate& cert) const;

  SecuritySection security_;
  std::shared_ptr<const crypto::Jwk> token_key_;
  crypto::KeyRing token_verify_keys_;                    // the public half of token_key_
  std::map<std::string, crypto::KeyRing> issuer_keys_;   // sender id → its IdP's JWKS
  mutable VerifiedTokenCache verified_;                  // tokens checked before, until their exp
};

}  // namespace xoev::auth
