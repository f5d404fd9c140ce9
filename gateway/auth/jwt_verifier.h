// Bearer JWTs (RFC 7519) signed with RS256, PS256, ES256 or EdDSA. "none", HS* and
// any alg that does not fit the key are refused, so a public key can never serve as
// an HMAC secret. iss, aud, exp (required) and nbf are checked with a bounded skew.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "gateway/core/result.h"
#include "gateway/crypto/key_ring.h"

namespace xoev::auth {

struct JwtExpectations {
  std::string issuer;
  std::string audience;
  std::chrono::seconds clock_skew{60};
};

// The token's issuer as written, unverified: to choose which keys to verify it with.
Result<std::string> jwt_unverified_issuer(std::string_view token);

// The verified claims. Problems are ProblemKind::unauthenticated and say what failed.
Result<nlohmann::json> verify_jwt(std::string_view token, const crypto::KeyRing& keys, const JwtExpectations& expect,
                                  std::chrono::system_clock::time_point now);

// Signs `claims` with the gateway's ES256/EdDSA key (typ JWT).
Result<std::string> sign_jwt(const nlohmann::json& claims, const crypto::Jwk& private_key);

}  // namespace xoev::auth
