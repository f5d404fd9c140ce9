#include "gateway/auth/jwt_verifier.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <array>

#include "gateway/crypto/base64url.h"
#include "gateway/crypto/jws.h"
#include "gateway/crypto/openssl_util.h"

namespace xoev::auth {

namespace {

constexpr std::size_t kMaxTokenBytes = 16u << 10;

Problem invalid(std::string detail) { return Problem::make(ProblemKind::unauthenticated, "bearer token: " + std::move(detail)); }

struct Parts {
  std::string_view signing_input, header_b64, payload_b64, signature_b64;
};

Result<Parts> split(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return invalid("longer than " + std::to_string(kMaxTokenBytes) + " bytes");
  const auto d1 = token.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return invalid("not a JWS compact serialization (needs 3 parts)");
  return Parts{token.substr(0, d2), token.substr(0, d1), token.substr(d1 + 1, d2 - d1 - 1), token.substr(d2 + 1)};
}

Result<nlohmann::json> decode_object(std::string_view b64, const char* what) {
  const auto text = crypto::base64url_decode(b64);
  if (!text) return invalid(std::string(what) + " is not base64url");
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object()) return invalid(std::string(what) + " is not a JSON object");
  return json;
}

bool fits(std::string_view alg, crypto::Jwk::Type type) {
  using T = crypto::Jwk::Type;
  if (alg == "RS256" || alg == "PS256") return type == T::rsa;
  if (alg == "ES256") return type == T::ec_p256;
  if (alg == "EdDSA") return type == T::ed25519;
  return false;
}

Status check_rsa(std::string_view alg, std::string_view input, std::string_view signature, const crypto::Jwk& key) {
  crypto::MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key.pkey()) != 1)
    return invalid("verification set-up failed");
  if (alg == "PS256" && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
    return invalid("PSS set-up failed");
  if (EVP_DigestVerify(ctx.get(), crypto::bytes(signature), signature.size(), crypto::bytes(input), input.size()) != 1) {
    crypto::openssl_error("");
    return invalid("signature does not match (kid=" + key.kid() + ")");
  }
  return ok_status();
}

bool audience_contains(const nlohmann::json& aud, const std::string& expected) {
  if (aud.is_string()) return aud.get<std::string>() == expected;
  if (aud.is_array())
    for (const auto& a : aud)
      if (a.is_string() && a.get<std::string>() == expected) return true;
  return false;
}

}  // namespace

Result<std::string> jwt_unverified_issuer(std::string_view token) {
  auto parts = split(token);
  if (!parts) return std::move(parts).problem();
  auto payload = decode_object(parts->payload_b64, "payload");
  if (!payload) return std::move(payload).problem();
  if (!payload->contains("iss") || !(*payload)["iss"].is_string()) return invalid("has no \"iss\" claim");
  return (*payload)["iss"].get<std::string>();
}

Result<nlohmann::json> verify_jwt(std::string_view token, const crypto::KeyRing& keys, const JwtExpectations& expect,
                                  std::chrono::system_clock::time_point now) {
  auto parts = split(token);
  if (!parts) return std::move(parts).problem();
  auto header = decode_object(parts->header_b64, "header");
  if (!header) return std::move(header).problem();
  const std::string alg = header->value("alg", "");
  if (alg != "RS256" && alg != "PS256" && alg != "ES256" && alg != "EdDSA")
    return invalid("alg \"" + alg + "\" is not allowed (allowed: RS256, PS256, ES256, EdDSA)");
  if (header->contains("crit")) return invalid("\"crit\" header parameters are not supported");
  const std::string kid = header->value("kid", "");
  const crypto::Jwk* key = nullptr;
  if (!kid.empty()) key = keys.find(kid);
  else if (keys.size() == 1) key = keys.first();
  if (!key) return invalid(kid.empty() ? "has no \"kid\" and the issuer has several keys" : "unknown signing key kid=" + kid);
  if (!fits(alg, key->type())) return invalid("alg " + alg + " does not fit key kid=" + key->kid() + " (" + key->describe() + ")");
  if (!key->alg().empty() && key->alg() != alg) return invalid("key kid=" + key->kid() + " is for alg " + key->alg() + ", not " + alg);
  const auto signature = crypto::base64url_decode(parts->signature_b64);
  if (!signature) return invalid("signature is not base64url");
  const Status checked = key->type() == crypto::Jwk::Type::rsa
                             ? check_rsa(alg, parts->signing_input, *signature, *key)
                             : crypto::jws_check_signature(parts->signing_input, *signature, *key);
  if (!checked) return invalid("signature does not match (kid=" + key->kid() + ")");

  auto claims = decode_object(parts->payload_b64, "payload");
  if (!claims) return std::move(claims).problem();
  if (claims->value("iss", "") != expect.issuer) return invalid("issuer \"" + claims->value("iss", "") + "\" is not trusted here");
  if (!claims->contains("aud") || !audience_contains((*claims)["aud"], expect.audience))
    return invalid("audience does not include \"" + expect.audience + "\"");
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto skew = expect.clock_skew.count();
  if (!claims->contains("exp") || !(*claims)["exp"].is_number()) return invalid("has no \"exp\" claim");
  if ((*claims)["exp"].get<double>() + static_cast<double>(skew) <= static_cast<double>(seconds)) return invalid("has expired");
  if (claims->contains("nbf")) {
    if (!(*claims)["nbf"].is_number()) return invalid("\"nbf\" is not a number");
    if ((*claims)["nbf"].get<double>() - static_cast<double>(skew) > static_cast<double>(seconds))
      return invalid("is not valid yet (nbf)");
  }
  return claims;
}

Result<std::string> sign_jwt(const nlohmann::json& claims, const crypto::Jwk& private_key) {
  return crypto::jws_sign(claims.dump(), private_key, {{"typ", "JWT"}});
}

}  // namespace xoev::auth
