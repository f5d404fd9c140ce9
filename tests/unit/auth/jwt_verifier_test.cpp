// Bearer JWT checks with keys made here: every allowed alg verifies; none, HS256 with
// the public key as secret, a foreign key, a wrong issuer or audience, expired and
// not-yet-valid tokens are refused with a reason.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <deque>

#include "gateway/auth/jwt_verifier.h"
#include "gateway/crypto/base64url.h"
#include "gateway/crypto/jws.h"

namespace xoev::auth {
namespace {

using crypto::Jwk;
using Clock = std::chrono::system_clock;

const Jwk& key(Jwk::Type type, const std::string& kid) {
  static std::deque<Jwk> cache;
  for (const auto& k : cache)
    if (k.kid() == kid) return k;
  auto generated = Jwk::generate(type, kid, "", 2048);
  EXPECT_TRUE(generated);
  cache.push_back(std::move(generated).value());
  return cache.back();
}

std::string rsa_sign(const std::string& input, const Jwk& k, bool pss) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nullptr, k.pkey());
  if (pss) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  std::size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  return sig;
}

std::int64_t now_s() { return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count(); }

nlohmann::json good_claims() {
  return {{"iss", "https://idp"}, {"aud", "xoevgate"}, {"sub", "a"}, {"nbf", now_s() - 1}, {"exp", now_s() + 300}};
}

std::string token(const std::string& alg, const Jwk& k, const nlohmann::json& claims = good_claims()) {
  const std::string input = crypto::base64url_encode(nlohmann::json{{"alg", alg}, {"kid", k.kid()}}.dump()) + "." +
                            crypto::base64url_encode(claims.dump());
  std::string sig;
  if (alg == "RS256" || alg == "PS256") sig = rsa_sign(input, k, alg == "PS256");
  else sig = crypto::jws_signature(input, k).value();
  return input + "." + crypto::base64url_encode(sig);
}

crypto::KeyRing trusted() {
  crypto::KeyRing ring;
  for (const auto* k : {&key(Jwk::Type::rsa, "rsa"), &key(Jwk::Type::ec_p256, "ec"), &key(Jwk::Type::ed25519, "ed")})
    EXPECT_TRUE(ring.add(k->public_key()));
  return ring;
}

const JwtExpectations kExpect{"https://idp", "xoevgate", std::chrono::seconds(30)};

std::string refusal(const std::string& t) {
  auto r = verify_jwt(t, trusted(), kExpect, Clock::now());
  EXPECT_FALSE(r) << "accepted: " << t;
  if (r) return "";
  EXPECT_EQ(r.problem().kind, ProblemKind::unauthenticated);
  return r.problem().detail;
}

TEST(JwtVerifier, AcceptsEveryAllowedAlgorithm) {
  for (const auto& [alg, k] : std::vector<std::pair<std::string, const Jwk*>>{
           {"RS256", &key(Jwk::Type::rsa, "rsa")},
           {"PS256", &key(Jwk::Type::rsa, "rsa")},
           {"ES256", &key(Jwk::Type::ec_p256, "ec")},
           {"EdDSA", &key(Jwk::Type::ed25519, "ed")}}) {
    auto r = verify_jwt(token(alg, *k), trusted(), kExpect, Clock::now());
    ASSERT_TRUE(r) << alg << ": " << r.problem().detail;
    EXPECT_EQ((*r)["sub"], "a");
  }
}

TEST(JwtVerifier, RefusesAlgNoneAndHs256WithThePublicKey) {
  const auto claims = crypto::base64url_encode(good_claims().dump());
  EXPECT_NE(refusal(crypto::base64url_encode(R"({"alg":"none","kid":"rsa"})") + "." + claims + ".").find("\"none\""),
            std::string::npos);
  // HS256 keyed with the RSA public key's DER: the classic confusion attack.
  const std::string input = crypto::base64url_encode(R"({"alg":"HS256","kid":"rsa"})") + "." + claims;
  unsigned char* der = nullptr;
  const int der_len = i2d_PUBKEY(key(Jwk::Type::rsa, "rsa").pkey(), &der);
  unsigned char mac[32];
  unsigned mac_len = 0;
  HMAC(EVP_sha256(), der, der_len, reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  OPENSSL_free(der);
  EXPECT_NE(refusal(input + "." + crypto::base64url_encode(std::string(reinterpret_cast<char*>(mac), mac_len)))
                .find("HS256"),
            std::string::npos);
}

TEST(JwtVerifier, RefusesAForeignKeyAndAnAlgThatDoesNotFitTheKey) {
  const Jwk& impostor = key(Jwk::Type::rsa, "impostor");
  Jwk same_kid = impostor;
  same_kid.set_kid("rsa");
  EXPECT_NE(refusal(token("RS256", same_kid)).find("signature"), std::string::npos);
  Jwk ec_as_rsa = key(Jwk::Type::ec_p256, "ec");
  ec_as_rsa.set_kid("rsa");
  EXPECT_NE(refusal(token("ES256", ec_as_rsa)).find("does not fit"), std::string::npos);
}

TEST(JwtVerifier, ChecksIssuerAudienceAndTimes) {
  const Jwk& k = key(Jwk::Type::ec_p256, "ec");
  auto claims = good_claims();
  claims["iss"] = "https://evil";
  EXPECT_NE(refusal(token("ES256", k, claims)).find("issuer"), std::string::npos);
  claims = good_claims();
  claims["aud"] = nlohmann::json::array({"other", "more"});
  EXPECT_NE(refusal(token("ES256", k, claims)).find("audience"), std::string::npos);
  claims["aud"] = nlohmann::json::array({"other", "xoevgate"});
  EXPECT_TRUE(verify_jwt(token("ES256", k, claims), trusted(), kExpect, Clock::now()));
  claims = good_claims();
  claims["exp"] = now_s() - 31;
  EXPECT_NE(refusal(token("ES256", k, claims)).find("expired"), std::string::npos);
  claims["exp"] = now_s() - 20;  // within the skew of 30 s
  EXPECT_TRUE(verify_jwt(token("ES256", k, claims), trusted(), kExpect, Clock::now()));
  claims = good_claims();
  claims["nbf"] = now_s() + 60;
  EXPECT_NE(refusal(token("ES256", k, claims)).find("not valid yet"), std::string::npos);
  claims = good_claims();
  claims.erase("exp");
  EXPECT_NE(refusal(token("ES256", k, claims)).find("exp"), std::string::npos);
}

TEST(JwtVerifier, RefusesATamperedPayload) {
  std::string t = token("EdDSA", key(Jwk::Type::ed25519, "ed"));
  auto claims = good_claims();
  claims["sub"] = "admin";
  const auto d1 = t.find('.');
  const auto d2 = t.find('.', d1 + 1);
  t = t.substr(0, d1 + 1) + crypto::base64url_encode(claims.dump()) + t.substr(d2);
  EXPECT_NE(refusal(t).find("signature"), std::string::npos);
}

}  // namespace
}  // namespace xoev::auth
