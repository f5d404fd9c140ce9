#include "gateway/crypto/jws.h"

#include <gtest/gtest.h>

#include "crypto_test_support.h"

namespace xoev::crypto {
namespace {

using test::ring_of;

void expect_failure(const std::string& compact, const KeyRing& ring, const std::string& expect) {
  auto r = jws_verify(compact, ring);
  ASSERT_FALSE(r) << "verified although " << expect;
  EXPECT_EQ(r.problem().kind, ProblemKind::crypto);
  EXPECT_NE(r.problem().detail.find(expect), std::string::npos) << "detail: " << r.problem().detail;
}

TEST(Jws, SignsAndVerifiesWithEs256AndEdDsa) {
  for (const Jwk* key : {&test::es256_sig(), &test::ed25519_sig()}) {
    SCOPED_TRACE(key->describe());
    auto jws = jws_sign("payload bytes \x01\x02", *key, {{"typ", "test"}});
    ASSERT_TRUE(jws) << jws.problem().one_line();
    auto parts = test::split(*jws);
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(base64url_decode(parts[2])->size(), 64u);  // raw r||s for ES256, not DER
    auto v = jws_verify(*jws, ring_of({key->public_key()}));
    ASSERT_TRUE(v) << v.problem().one_line();
    EXPECT_EQ(v->payload, "payload bytes \x01\x02");
    EXPECT_EQ(v->kid, key->kid());
    EXPECT_EQ(v->protected_header["alg"], key->type() == Jwk::Type::ec_p256 ? "ES256" : "EdDSA");
    EXPECT_EQ(v->protected_header["typ"], "test");
  }
}

TEST(Jws, EveryTamperedPartIsRejected) {
  for (const Jwk* key : {&test::es256_sig(), &test::ed25519_sig()}) {
    SCOPED_TRACE(key->describe());
    const auto ring = ring_of({key->public_key()});
    auto jws = jws_sign("the payload", *key).value();
    expect_failure(test::flip_bit(jws, 1, 2), ring, "signature does not match");
    expect_failure(test::flip_bit(jws, 2, 5), ring, "signature does not match");
    expect_failure(test::flip_bit(jws, 2, -1), ring, "signature does not match");
    expect_failure(test::flip_bit(jws, 0, 0, 1), ring, "not a JSON object");
    auto parts = test::split(jws);
    auto h = nlohmann::json::parse(*base64url_decode(parts[0]));
    h["x"] = 1;  // any header change invalidates the signature
    parts[0] = base64url_encode(h.dump());
    expect_failure(test::join(parts), ring, "signature does not match");
  }
}

TEST(Jws, UnknownKidAlgAndKeyMismatchAreRefused) {
  auto es = jws_sign("p", test::es256_sig()).value();
  expect_failure(es, ring_of({test::ed25519_sig().public_key()}), "unknown signing key kid=es256-sig");
  // A trusted key of another type under the same kid: alg must fit the key.
  Jwk ed_as_es = test::ed25519_sig().public_key();
  ed_as_es.set_kid("es256-sig");
  ed_as_es.set_alg("");
  expect_failure(es, ring_of({ed_as_es}), "alg ES256 does not fit key kid=es256-sig (OKP Ed25519)");

  auto parts = test::split(es);
  auto with_header = [&](nlohmann::json h) {
    auto p = parts;
    p[0] = base64url_encode(h.dump());
    return test::join(p);
  };
  const auto ring = ring_of({test::es256_sig().public_key()});
  expect_failure(with_header({{"alg", "none"}, {"kid", "es256-sig"}}), ring, "alg \"none\" is not allowed");
  expect_failure(with_header({{"alg", "HS256"}, {"kid", "es256-sig"}}), ring, "alg \"HS256\" is not allowed");
  expect_failure(with_header({{"alg", "ES256"}}), ring, "no \"kid\"");
  expect_failure(with_header({{"alg", "ES256"}, {"kid", "es256-sig"}, {"crit", {"b64"}}}), ring, "critical");
  // Unsigned ("alg none" with an empty signature) and truncated forms.
  expect_failure(parts[0] + "." + parts[1] + ".", ring, "signature has 0 bytes");
  expect_failure(parts[0] + "." + parts[1], ring, "3 parts");
  expect_failure(es + ".x", ring, "3 parts");
  expect_failure(parts[0] + "." + parts[1] + "." + parts[2] + "=", ring, "not valid base64url");
}

TEST(Jws, PublicOrEncryptionKeysCannotSign) {
  EXPECT_FALSE(jws_sign("p", test::es256_sig().public_key()));
  EXPECT_FALSE(jws_sign("p", test::x25519_enc()));
  EXPECT_FALSE(jws_sign("p", test::rsa3072()));
}

}  // namespace
}  // namespace xoev::crypto
