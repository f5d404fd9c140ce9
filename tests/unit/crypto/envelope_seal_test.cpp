#include "gateway/crypto/envelope_seal.h"

#include <gtest/gtest.h>

#include "crypto_test_support.h"
#include "gateway/crypto/jwe.h"
#include "gateway/crypto/jws.h"

namespace xoev::crypto {
namespace {

using test::ring_of;

const std::string kXml =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><xpersonenstand:nachricht>Max Mustermann, geb. 01.01.1990"
    "</xpersonenstand:nachricht>";

Envelope make_envelope() {
  Envelope env;
  env.topic = "xoev.personenstand.06414000";
  env.key = "2b4c7f0e-7a43-4f0e-9d6b-1f4c1a7e0c11";
  env.value = kXml;
  env.headers = {{std::string(header::message_id), env.key},
                 {std::string(header::message_type), "xpersonenstand.0100"},
                 {std::string(header::standard), "xpersonenstand"},
                 {std::string(header::sender), "psw:06412000"},
                 {std::string(header::recipient), "psw:06414000"},
                 {std::string(header::destination), "standesamt-wiesbaden"},
                 {std::string(header::accepted_at), "2026-11-29T01:44:05Z"},
                 {std::string(header::content_type), "application/xml"},
                 {std::string(header::traceparent), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}};
  return env;
}

class EnvelopeSeal : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = make_envelope();
    auto s = seal(env_, recipients_, test::es256_sig());
    ASSERT_TRUE(s) << s.problem().one_line();
  }
  void expect_refused(const Envelope& env, const std::string& expect) {
    auto r = open(env, trusted_, decryption_);
    ASSERT_FALSE(r) << "opened although " << expect;
    EXPECT_EQ(r.problem().kind, ProblemKind::crypto);
    EXPECT_NE(r.problem().detail.find(expect), std::string::npos) << "detail: " << r.problem().detail;
    EXPECT_EQ(r.problem().detail.find("Mustermann"), std::string::npos);
  }
  KeyRing recipients_ = ring_of({test::x25519_enc().public_key(), test::p256_enc().public_key()});
  KeyRing decryption_ = ring_of({test::x25519_enc(), test::p256_enc()});
  KeyRing trusted_ = ring_of({test::es256_sig().public_key(), test::ed25519_sig().public_key()});
  Envelope env_;
};

TEST_F(EnvelopeSeal, SealsWithFirstKeyAndOpensToTheExactBytes) {
  EXPECT_EQ(env_.value.find("Mustermann"), std::string::npos);
  for (const auto& [k, v] : env_.headers) EXPECT_EQ(v.find("Mustermann"), std::string::npos) << k;
  auto hdr = nlohmann::json::parse(*base64url_decode(test::split(env_.value)[0]));
  EXPECT_EQ(hdr["kid"], "x25519-enc");  // first key of the ring
  EXPECT_EQ(hdr["alg"], "ECDH-ES+A256KW");
  EXPECT_EQ(hdr["enc"], "A256GCM");
  EXPECT_EQ(hdr["cty"], "application/xml");
  EXPECT_EQ(hdr["xoev"], (nlohmann::json{{"id", env_.key},
                                         {"type", "xpersonenstand.0100"},
                                         {"sender", "psw:06412000"},
                                         {"recipient", "psw:06414000"},
                                         {"destination", "standesamt-wiesbaden"}}));
  ASSERT_NE(env_.find(header::signature), nullptr);
  auto plain = open(env_, trusted_, decryption_);
  ASSERT_TRUE(plain) << plain.problem().one_line();
  EXPECT_EQ(*plain, kXml);
}

TEST_F(EnvelopeSeal, SignatureCoversValueAndSignedHeaders) {
  auto jws = jws_verify(*env_.find(header::signature), trusted_);
  ASSERT_TRUE(jws);
  EXPECT_EQ(jws->protected_header["typ"], "xoev-envelope-signature");
  auto claims = nlohmann::json::parse(jws->payload);
  EXPECT_EQ(claims["headers"].size(), header::signed_headers.size());
  EXPECT_EQ(claims["headers"]["xoev-recipient"], "psw:06414000");
  EXPECT_EQ(claims["sha256"].get<std::string>().size(), 43u);
}

TEST_F(EnvelopeSeal, EdDsaGatewayKeyWorksToo) {
  Envelope env = make_envelope();
  ASSERT_TRUE(seal(env, recipients_, test::ed25519_sig()));
  EXPECT_EQ(*open(env, trusted_, decryption_), kXml);
}

TEST_F(EnvelopeSeal, UnsignedRecordIsRefused) {
  Envelope env = env_;
  env.headers.erase(std::remove_if(env.headers.begin(), env.headers.end(),
                                   [](auto& h) { return h.first == header::signature; }),
                    env.headers.end());
  expect_refused(env, "unsigned");
}

TEST_F(EnvelopeSeal, UnknownSigningKeyIsRefused) {
  KeyRing others = ring_of({test::ed25519_sig().public_key()});
  auto r = open(env_, others, decryption_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.problem().detail.find("unknown signing key kid=es256-sig"), std::string::npos) << r.problem().detail;
}

TEST_F(EnvelopeSeal, ForgedSignatureIsRefused) {
  Envelope env = env_;
  env.set(header::signature, test::flip_bit(*env.find(header::signature), 2, 9));
  expect_refused(env, "signature does not match");
  // A signature by an untrusted key that claims the trusted kid.
  Jwk forger = Jwk::generate(Jwk::Type::ec_p256, "es256-sig", "ES256").value();
  Envelope forged = make_envelope();
  ASSERT_TRUE(seal(forged, recipients_, forger));
  expect_refused(forged, "signature does not match");
}

TEST_F(EnvelopeSeal, AlteredValueIsRefusedBeforeDecryption) {
  Envelope env = env_;
  env.value = test::flip_bit(env.value, 3, 4);
  expect_refused(env, "the value was altered");
  // Another valid JWE for the same recipient, swapped in: still caught by the signature.
  Envelope swapped = env_;
  swapped.value = jwe_encrypt("<evil/>", test::x25519_enc().public_key()).value();
  expect_refused(swapped, "the value was altered");
}

TEST_F(EnvelopeSeal, AlteredDuplicatedOrAddedSignedHeadersAreRefused) {
  Envelope env = env_;
  env.set(header::recipient, "psw:99999999");
  expect_refused(env, "header xoev-recipient was altered");
  Envelope dup = env_;
  dup.headers.insert(dup.headers.begin(), {std::string(header::destination), "elsewhere"});
  expect_refused(dup, "header xoev-destination appears twice");
  // A header that was absent at sealing time may not be added later.
  Envelope sealed_without = make_envelope();
  sealed_without.headers.pop_back();  // no traceparent
  ASSERT_TRUE(seal(sealed_without, recipients_, test::es256_sig()));
  EXPECT_TRUE(open(sealed_without, trusted_, decryption_));
  sealed_without.set(header::traceparent, "00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01");
  expect_refused(sealed_without, "header traceparent was altered");
}

TEST_F(EnvelopeSeal, ProtectedClaimsMustMatchHeaders) {
  // A record whose JWE claims differ from its headers, correctly signed by the gateway
  // key (e.g. a bug or a compromised producer reusing a JWE): open() still refuses.
  Envelope env = make_envelope();
  env.value = jwe_encrypt(kXml, test::x25519_enc().public_key(),
                          {{"cty", "application/xml"},
                           {"xoev", {{"id", env.key}, {"type", "xpersonenstand.0100"}, {"sender", "psw:06412000"},
                                     {"recipient", "psw:06414000"}, {"destination", "other-destination"}}}})
                  .value();
  Envelope resigned = env;
  // Re-sign over the (wrong-claims) value exactly as seal() would, without re-encrypting.
  Envelope probe = make_envelope();
  ASSERT_TRUE(seal(probe, recipients_, test::es256_sig()));
  auto claims = nlohmann::json::parse(jws_verify(*probe.find(header::signature), trusted_)->payload);
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(resigned.value.data(), resigned.value.size(), md, &len, EVP_sha256(), nullptr);
  claims["sha256"] = base64url_encode({reinterpret_cast<char*>(md), len});
  resigned.set(header::signature,
               jws_sign(claims.dump(), test::es256_sig(), {{"typ", "xoev-envelope-signature"}}).value());
  expect_refused(resigned, "xoev.destination does not match header xoev-destination");
}

TEST_F(EnvelopeSeal, WrongDecryptionKeyIsRefusedAfterTheSignatureChecks) {
  auto r = open(env_, trusted_, ring_of({test::p256_enc()}));
  ASSERT_FALSE(r);
  EXPECT_NE(r.problem().detail.find("no decryption key for kid=x25519-enc"), std::string::npos) << r.problem().detail;
}

TEST_F(EnvelopeSeal, SealNeedsKeysAndRoutingHeaders) {
  Envelope env = make_envelope();
  EXPECT_FALSE(seal(env, KeyRing{}, test::es256_sig()));
  Envelope missing = make_envelope();
  missing.headers.erase(missing.headers.begin());  // no xoev-message-id
  auto s = seal(missing, recipients_, test::es256_sig());
  ASSERT_FALSE(s);
  EXPECT_NE(s.problem().detail.find("xoev-message-id"), std::string::npos);
  EXPECT_EQ(missing.value, kXml);  // nothing half-sealed
  Envelope enc_key_signer = make_envelope();
  EXPECT_FALSE(seal(enc_key_signer, recipients_, test::x25519_enc()));
  EXPECT_EQ(enc_key_signer.value, kXml);
  EXPECT_EQ(enc_key_signer.find(header::signature), nullptr);
}

// Header values are written into the JSON headers as text: quotes, backslashes,
// control characters and non-ASCII must survive exactly, and non-UTF-8 is refused.
TEST_F(EnvelopeSeal, HeaderValuesNeedingEscapesRoundTripAndNonUtf8IsRefused) {
  Envelope env = make_envelope();
  const std::string odd = "Stadt \"Müllheim\" \\ Amt\t1\n\x01";
  for (auto& [k, v] : env.headers)
    if (k == header::sender || k == header::traceparent) v = odd;
  ASSERT_TRUE(seal(env, recipients_, test::es256_sig()));
  auto plain = open(env, trusted_, decryption_);
  ASSERT_TRUE(plain) << plain.problem().one_line();
  EXPECT_EQ(*plain, kXml);
  auto hdr = nlohmann::json::parse(*base64url_decode(test::split(env.value)[0]));
  EXPECT_EQ(hdr["xoev"]["sender"], odd);

  for (auto name : {header::sender, header::traceparent}) {
    Envelope bad = make_envelope();
    for (auto& [k, v] : bad.headers)
      if (k == name) v = "psw:\xC3(";
    auto s = seal(bad, recipients_, test::es256_sig());
    ASSERT_FALSE(s) << name;
    EXPECT_NE(s.problem().detail.find("not valid UTF-8"), std::string::npos) << s.problem().detail;
    EXPECT_EQ(bad.value, kXml);
  }
}

}  // namespace
}  // namespace xoev::crypto
