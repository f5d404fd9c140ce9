#include "gateway/crypto/jwe.h"

#include <gtest/gtest.h>

#include <random>

#include "crypto_test_support.h"

namespace xoev::crypto {
namespace {

using test::flip_bit;
using test::ring_of;
using test::split;

const std::string kXml = "<?xml version=\"1.0\"?><nachricht>Geheime Daten: Erika Mustermann</nachricht>";

std::vector<const Jwk*> encryption_keys() {
  return {&test::rsa3072(), &test::rsa4096(), &test::p256_enc(), &test::x25519_enc()};
}

// Decrypt must fail with a crypto Problem containing `expect`, and must not return plaintext.
void expect_failure(const std::string& compact, const KeyRing& ring, const std::string& expect,
                    const JweLimits& limits = {}) {
  auto r = jwe_decrypt(compact, ring, limits);
  ASSERT_FALSE(r) << "decrypted although " << expect;
  EXPECT_EQ(r.problem().kind, ProblemKind::crypto);
  EXPECT_NE(r.problem().detail.find(expect), std::string::npos) << "detail: " << r.problem().detail;
  EXPECT_EQ(r.problem().detail.find("Mustermann"), std::string::npos);
}

TEST(Jwe, RoundTripsForEveryAlgorithmAndSize) {
  const std::string big(1 << 20, 'x');
  for (const Jwk* key : encryption_keys()) {
    SCOPED_TRACE(key->describe());
    for (const std::string* plain : {&kXml, &big}) {
      auto jwe = jwe_encrypt(*plain, key->public_key(), {{"cty", "application/xml"}});
      ASSERT_TRUE(jwe) << jwe.problem().one_line();
      EXPECT_EQ(split(*jwe).size(), 5u);
      EXPECT_EQ(jwe->find("Mustermann"), std::string::npos);
      auto opened = jwe_decrypt(*jwe, ring_of({*key}));
      ASSERT_TRUE(opened) << opened.problem().one_line();
      EXPECT_EQ(opened->plaintext, *plain);
      EXPECT_EQ(opened->protected_header["kid"], key->kid());
      EXPECT_EQ(opened->protected_header["enc"], "A256GCM");
      EXPECT_EQ(opened->protected_header["cty"], "application/xml");
      EXPECT_FALSE(opened->protected_header.contains("zip"));
    }
  }
}

TEST(Jwe, HeaderNamesAlgorithmAndEphemeralKey) {
  auto rsa = jwe_encrypt(kXml, test::rsa3072().public_key());
  auto hdr = nlohmann::json::parse(*base64url_decode(split(*rsa)[0]));
  EXPECT_EQ(hdr["alg"], "RSA-OAEP-256");
  EXPECT_EQ(base64url_decode(split(*rsa)[1])->size(), 384u);  // 3072-bit OAEP block
  for (const Jwk* k : {&test::p256_enc(), &test::x25519_enc()}) {
    auto ec = jwe_encrypt(kXml, k->public_key());
    auto h = nlohmann::json::parse(*base64url_decode(split(*ec)[0]));
    EXPECT_EQ(h["alg"], "ECDH-ES+A256KW");
    EXPECT_EQ(h["epk"]["crv"], k->type() == Jwk::Type::x25519 ? "X25519" : "P-256");
    EXPECT_FALSE(h["epk"].contains("d"));
    EXPECT_EQ(base64url_decode(split(*ec)[1])->size(), 40u);
  }
}

TEST(Jwe, ExtraHeaderIsAuthenticatedAndCannotOverrideReservedMembers) {
  nlohmann::json extra = {{"cty", "application/xml"}, {"xoev", {{"id", "m-1"}, {"destination", "d"}}}};
  auto jwe = jwe_encrypt(kXml, test::p256_enc().public_key(), extra);
  ASSERT_TRUE(jwe);
  auto opened = jwe_decrypt(*jwe, ring_of({test::p256_enc()}));
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->protected_header["xoev"]["id"], "m-1");
  // Changing the routing claim (re-encoded, so still valid base64url/JSON) breaks the tag.
  auto parts = split(*jwe);
  auto hdr = nlohmann::json::parse(*base64url_decode(parts[0]));
  hdr["xoev"]["destination"] = "elsewhere";
  parts[0] = base64url_encode(hdr.dump());
  expect_failure(test::join(parts), ring_of({test::p256_enc()}), "content authentication failed");

  for (const char* reserved : {"alg", "enc", "kid", "zip", "crit", "epk"})
    EXPECT_FALSE(jwe_encrypt(kXml, test::p256_enc().public_key(), {{reserved, "x"}})) << reserved;
}

// apu/apv (RFC 7518 §4.6.1) feed the Concat KDF on both sides: if encryption ignored
// them while decryption used them (or the reverse), the key unwrap would fail.
TEST(Jwe, PartyInfoEntersTheKeyDerivationOnBothSides) {
  for (const Jwk* key : {&test::p256_enc(), &test::x25519_enc()}) {
    SCOPED_TRACE(key->describe());
    nlohmann::json extra = {{"apu", base64url_encode("Alice")}, {"apv", base64url_encode("Bob")}};
    auto jwe = jwe_encrypt(kXml, key->public_key(), extra);
    ASSERT_TRUE(jwe) << jwe.problem().one_line();
    auto opened = jwe_decrypt(*jwe, ring_of({*key}));
    ASSERT_TRUE(opened) << opened.problem().one_line();
    EXPECT_EQ(opened->plaintext, kXml);
    EXPECT_EQ(opened->protected_header["apu"], base64url_encode("Alice"));
    EXPECT_FALSE(jwe_encrypt(kXml, key->public_key(), {{"apu", "not base64url!"}}));
  }
}

// One bit flipped in each of the five parts: a crypto Problem naming the part (the
// three GCM inputs iv, ciphertext and tag are indistinguishable by design).
TEST(Jwe, TamperingWithAnyPartFailsWithAClearError) {
  for (const Jwk* key : encryption_keys()) {
    SCOPED_TRACE(key->describe());
    const auto ring = ring_of({*key});
    auto jwe = jwe_encrypt(kXml, key->public_key(), {{"cty", "application/xml"}});
    ASSERT_TRUE(jwe);
    const std::string header_text = *base64url_decode(split(*jwe)[0]);
    // header: a structural byte (the opening brace) → not JSON; a byte inside "cty" → tag
    expect_failure(flip_bit(*jwe, 0, 0, 1), ring, "protected header is not a JSON object");
    const long in_cty = static_cast<long>(header_text.find("application/xml") + 3);
    expect_failure(flip_bit(*jwe, 0, in_cty), ring, "content authentication failed");
    expect_failure(flip_bit(*jwe, 1, 7), ring, "encrypted key");
    expect_failure(flip_bit(*jwe, 2, 3), ring, "content authentication failed");
    expect_failure(flip_bit(*jwe, 3, 10), ring, "content authentication failed");
    expect_failure(flip_bit(*jwe, 4, -1, 7), ring, "content authentication failed");
  }
}

TEST(Jwe, WrongKeyAndUnknownKidAreRefused) {
  auto jwe = jwe_encrypt(kXml, test::p256_enc().public_key());
  ASSERT_TRUE(jwe);
  expect_failure(*jwe, ring_of({test::x25519_enc(), test::rsa3072()}), "no decryption key for kid=p256-enc");
  // Same kid, different key material: the key unwrap integrity check catches it.
  Jwk impostor = Jwk::generate(Jwk::Type::ec_p256, "p256-enc", "ECDH-ES+A256KW").value();
  expect_failure(*jwe, ring_of({impostor}), "integrity check");
  Jwk rsa_impostor = Jwk::generate(Jwk::Type::rsa, "rsa-3072", "RSA-OAEP-256", 3072).value();
  auto rsa_jwe = jwe_encrypt(kXml, test::rsa3072().public_key());
  expect_failure(*rsa_jwe, ring_of({rsa_impostor}), "could not be decrypted with RSA-OAEP-256");
  // A public key cannot decrypt.
  expect_failure(*jwe, ring_of({test::p256_enc().public_key()}), "public key");
  // A kid that names a key of another type.
  Jwk wrong_type = test::x25519_enc();
  wrong_type.set_kid("p256-enc");
  expect_failure(*jwe, ring_of({wrong_type}), "\"epk\" is EC P-256");
}

TEST(Jwe, TruncatedAndMalformedInputIsRefused) {
  const auto ring = ring_of({test::p256_enc()});
  auto jwe = jwe_encrypt(kXml, test::p256_enc().public_key()).value();
  expect_failure("", ring, "5 parts");
  expect_failure(jwe.substr(0, jwe.rfind('.')), ring, "5 parts");
  expect_failure(jwe + ".x", ring, "5 parts");
  auto parts = split(jwe);
  auto cut = [&](std::size_t i, std::size_t keep) {
    auto p = parts;
    p[i] = base64url_encode(base64url_decode(p[i])->substr(0, keep));
    return test::join(p);
  };
  expect_failure(cut(2, 11), ring, "iv has 11 bytes");
  expect_failure(cut(4, 15), ring, "tag has 15 bytes");
  expect_failure(cut(1, 32), ring, "encrypted key has 32 bytes");
  expect_failure(cut(3, 5), ring, "content authentication failed");
  for (std::size_t i = 0; i < 5; ++i) {
    auto p = parts;
    p[i] += "*";
    expect_failure(test::join(p), ring, "not valid base64url");
  }
}

TEST(Jwe, SizeLimitsAreEnforcedBeforeAnyWork) {
  const auto ring = ring_of({test::p256_enc()});
  auto jwe = jwe_encrypt(std::string(4096, 'a'), test::p256_enc().public_key()).value();
  JweLimits small;
  small.max_compact_bytes = 1000;
  expect_failure(jwe, ring, "exceeds the limit", small);
  // An oversized protected header: a valid JWE whose header carries 20 KiB of extra data.
  auto big_header = jwe_encrypt(kXml, test::p256_enc().public_key(), {{"pad", std::string(20000, 'p')}}).value();
  expect_failure(big_header, ring, "protected header exceeds the limit");
  JweLimits roomy;
  roomy.max_header_bytes = 64 << 10;
  EXPECT_TRUE(jwe_decrypt(big_header, ring, roomy));
}

TEST(Jwe, AllowListCritAndZipAreEnforced) {
  const auto ring = ring_of({test::p256_enc()});
  auto parts = split(jwe_encrypt(kXml, test::p256_enc().public_key()).value());
  auto with = [&](const std::function<void(nlohmann::json&)>& change) {
    auto p = parts;
    auto h = nlohmann::json::parse(*base64url_decode(p[0]));
    change(h);
    p[0] = base64url_encode(h.dump());
    return test::join(p);
  };
  expect_failure(with([](auto& h) { h["alg"] = "RSA1_5"; }), ring, "alg \"RSA1_5\" is not allowed");
  expect_failure(with([](auto& h) { h["alg"] = "dir"; }), ring, "alg \"dir\" is not allowed");
  expect_failure(with([](auto& h) { h["alg"] = "RSA-OAEP-256"; }), ring, "does not fit key kid=p256-enc");
  expect_failure(with([](auto& h) { h["enc"] = "A128CBC-HS256"; }), ring, "enc \"A128CBC-HS256\" is not allowed");
  expect_failure(with([](auto& h) { h["zip"] = "DEF"; }), ring, "\"zip\"");
  expect_failure(with([](auto& h) { h["crit"] = {"exp"}; }), ring, "unsupported critical header");
  expect_failure(with([](auto& h) { h["epk"]["d"] = "AAAA"; }), ring, "\"epk\" must be a public key");
  expect_failure(with([](auto& h) { h["epk"]["x"] = h["epk"]["y"]; }), ring, "\"epk\" is not a valid key");
}

TEST(Jwe, RotationDecryptsByKid) {
  Jwk old_key = Jwk::generate(Jwk::Type::ec_p256, "dest-2025", "ECDH-ES+A256KW").value();
  Jwk new_key = Jwk::generate(Jwk::Type::x25519, "dest-2026", "ECDH-ES+A256KW").value();
  auto old_msg = jwe_encrypt("old", old_key.public_key()).value();
  auto new_msg = jwe_encrypt("new", new_key.public_key()).value();
  const auto both = ring_of({new_key, old_key});  // newest first
  EXPECT_EQ(jwe_decrypt(old_msg, both)->plaintext, "old");
  EXPECT_EQ(jwe_decrypt(new_msg, both)->plaintext, "new");
  EXPECT_EQ(both.first()->kid(), "dest-2026");
  // After the old key is retired, old messages fail clearly instead of silently.
  expect_failure(old_msg, ring_of({new_key}), "no decryption key for kid=dest-2025 (have: dest-2026)");
}

TEST(Jwe, SignatureKeysCannotEncrypt) {
  EXPECT_FALSE(jwe_encrypt(kXml, test::ed25519_sig().public_key()));
  Jwk mislabeled = test::p256_enc().public_key();
  mislabeled.set_alg("ES256");
  auto r = jwe_encrypt(kXml, mislabeled);
  ASSERT_FALSE(r);
  EXPECT_NE(r.problem().detail.find("has alg \"ES256\""), std::string::npos);
}

}  // namespace
}  // namespace xoev::crypto

namespace xoev::crypto {
namespace {

// Random damage (replace, insert, delete, truncate) anywhere in the text: never a
// crash, never plaintext. Deterministic seed, bounded count.
TEST(Jwe, RandomCorruptionNeverYieldsPlaintext) {
  for (const Jwk* key : {&test::p256_enc(), &test::x25519_enc(), &test::rsa3072()}) {
    const auto ring = test::ring_of({*key});
    const std::string jwe = jwe_encrypt(kXml, key->public_key()).value();
    std::mt19937 rng(42);
    const std::string alphabet = "ABCxyz019-_.=+/ \n{}\"\x01\xff";
    for (int i = 0; i < 400; ++i) {
      std::string bad = jwe;
      const std::size_t pos = rng() % bad.size();
      switch (rng() % 4) {
        case 0: bad[pos] = alphabet[rng() % alphabet.size()]; break;
        case 1: bad.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
        case 2: bad.erase(pos, 1 + rng() % 3); break;
        default: bad.resize(pos); break;
      }
      if (bad == jwe) continue;
      auto r = jwe_decrypt(bad, ring);
      ASSERT_FALSE(r) << "accepted a corrupted JWE: " << bad;
      EXPECT_EQ(r.problem().kind, ProblemKind::crypto);
    }
  }
}

}  // namespace
}  // namespace xoev::crypto
