#include "gateway/crypto/jwk.h"

#include <gtest/gtest.h>

#include "crypto_test_support.h"

namespace xoev::crypto {
namespace {

using test::es256_sig;

TEST(Jwk, EveryTypeRoundTripsThroughJsonPrivateAndPublic) {
  for (const Jwk* key : {&test::rsa3072(), &test::p256_enc(), &test::x25519_enc(), &test::ed25519_sig()}) {
    SCOPED_TRACE(key->describe());
    auto priv_json = key->to_json(true);
    EXPECT_TRUE(priv_json.contains("d"));
    auto back = Jwk::from_json(priv_json);
    ASSERT_TRUE(back) << back.problem().one_line();
    EXPECT_TRUE(back->is_private());
    EXPECT_EQ(back->type(), key->type());
    EXPECT_EQ(back->kid(), key->kid());
    EXPECT_EQ(back->alg(), key->alg());
    EXPECT_EQ(back->to_json(true), priv_json);

    auto pub = key->public_key();
    EXPECT_FALSE(pub.is_private());
    auto pub_json = pub.to_json(true);  // asking for private members of a public key gives none
    EXPECT_FALSE(pub_json.contains("d"));
    EXPECT_EQ(pub_json, key->to_json(false));
  }
}

TEST(Jwk, ExportsFixedSizeCoordinates) {
  auto j = test::p256_enc().to_json(true);
  EXPECT_EQ(j["kty"], "EC");
  EXPECT_EQ(j["crv"], "P-256");
  for (const char* m : {"x", "y", "d"}) EXPECT_EQ(j[m].get<std::string>().size(), 43u) << m;  // 32 bytes
  EXPECT_EQ(test::rsa3072().bits(), 3072u);
}

TEST(Jwk, RefusesPointNotOnTheCurve) {
  auto j = test::p256_enc().to_json(false);
  auto y = base64url_decode(j["y"].get<std::string>()).value();
  y[31] = static_cast<char>(y[31] ^ 1);
  j["y"] = base64url_encode(y);
  auto key = Jwk::from_json(j);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.problem().kind, ProblemKind::crypto);
  EXPECT_NE(key.problem().detail.find("not on P-256"), std::string::npos) << key.problem().detail;
  // The unchanged point imports, and exports to the same coordinates.
  auto good = Jwk::from_json(test::p256_enc().to_json(false));
  ASSERT_TRUE(good);
  EXPECT_EQ(good->to_json(false)["y"], test::p256_enc().to_json(false)["y"]);
}

TEST(Jwk, RefusesPrivatePartThatDoesNotBelongToThePublicPart) {
  auto a = test::p256_enc().to_json(true);
  a["d"] = es256_sig().to_json(true)["d"];
  EXPECT_FALSE(Jwk::from_json(a));
  auto o = test::x25519_enc().to_json(true);
  auto other = Jwk::generate(Jwk::Type::x25519, "o", "").value().to_json(true);
  o["d"] = other["d"];
  EXPECT_FALSE(Jwk::from_json(o));
}

TEST(Jwk, RefusesUnsupportedAndMalformedKeys) {
  EXPECT_FALSE(Jwk::parse("not json"));
  EXPECT_FALSE(Jwk::parse("[]"));
  EXPECT_FALSE(Jwk::parse(R"({"kty":"oct","k":"AAAA"})"));
  EXPECT_FALSE(Jwk::parse(R"({"kty":"EC","crv":"P-384","x":"AA","y":"AA"})"));
  EXPECT_FALSE(Jwk::parse(R"({"kty":"OKP","crv":"X25519","x":"AAAA"})"));  // wrong size
  EXPECT_FALSE(Jwk::parse(R"({"kty":"OKP","crv":"X25519","x":"!!"})"));
  auto small = Jwk::generate(Jwk::Type::rsa, "small", "", 1024);
  EXPECT_FALSE(small);  // below 2048 bits
}

TEST(Jwk, KeepsKidAlgAndUse) {
  auto key = Jwk::generate(Jwk::Type::ed25519, "gw-1", "EdDSA");
  ASSERT_TRUE(key);
  key->set_use("sig");
  auto back = Jwk::parse(key->serialize(false));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kid(), "gw-1");
  EXPECT_EQ(back->alg(), "EdDSA");
  EXPECT_EQ(back->use(), "sig");
  EXPECT_EQ(back->describe(), "OKP Ed25519");
}

}  // namespace
}  // namespace xoev::crypto
