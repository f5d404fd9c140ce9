#include "gateway/crypto/chunk_seal.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "crypto_test_support.h"
#include "gateway/crypto/envelope_seal.h"
#include "gateway/crypto/jwe.h"
#include "gateway/crypto/jws.h"

namespace xoev::crypto {
namespace {

using test::ring_of;

const std::string kSeq = "4e1f0c9a-3b7d-4a51-9c2e-8f6d0b1a2c3d";

std::string sha256_b64url(std::string_view data) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return base64url_encode({reinterpret_cast<char*>(md), len});
}

Envelope chunk_envelope(std::string plaintext, const std::string& seq = kSeq) {
  Envelope env;
  env.topic = "xoev.bau.06414000";
  env.key = seq;
  env.value = std::move(plaintext);
  env.headers = {{std::string(header::message_id), seq},
                 {std::string(header::message_type), "xbau.0200"},
                 {std::string(header::standard), "xbau"},
                 {std::string(header::sender), "psw:06412000"},
                 {std::string(header::recipient), "psw:06414000"},
                 {std::string(header::destination), "bauamt-wiesbaden"},
                 {std::string(header::accepted_at), "2026-11-30T14:44:05Z"},
                 {std::string(header::content_type), "application/xml"},
                 {std::string(header::traceparent), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}};
  return env;
}

// A JWS over the record's current value and headers with the gateway key: what a
// producer holding the signing key (a bug, a compromised gateway) could emit.
void resign(Envelope& env, const KeyRing& trusted) {
  auto claims = nlohmann::json::parse(jws_verify(*env.find(header::signature), trusted)->payload);
  claims["sha256"] = sha256_b64url(env.value);
  for (auto name : header::signed_headers) {
    const std::string* v = env.find(name);
    claims["headers"][std::string(name)] = v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  }
  env.set(header::signature, jws_sign(claims.dump(), test::es256_sig(), {{"typ", "xoev-envelope-signature"}}).value());
}

ChunkClaims claims_of(const std::string& seq, uint64_t index, bool last, uint64_t count = 0, uint64_t size = 0,
                      std::string sha256 = {}, std::string message_id = {}, std::string abort = {}) {
  ChunkClaims c;
  c.seq = seq;
  c.index = index;
  c.last = last;
  c.count = count;
  c.size = size;
  c.sha256 = std::move(sha256);
  c.message_id = std::move(message_id);
  c.abort = std::move(abort);
  return c;
}

nlohmann::json protected_header(const Envelope& env) {
  return nlohmann::json::parse(*base64url_decode(test::split(env.value)[0]));
}

class ChunkSeal : public ::testing::TestWithParam<const Jwk* (*)()> {
 protected:
  const Jwk& recipient() const { return *GetParam()(); }
  KeyRing recipients() const { return ring_of({recipient().public_key()}); }
  KeyRing decryption() const { return ring_of({recipient()}); }

  // Three chunks of a message; the last carries count, size and the whole hash.
  std::vector<Envelope> sealed_sequence(const std::vector<std::string>& parts) {
    std::string whole;
    for (const auto& p : parts) whole += p;
    std::vector<Envelope> out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      Envelope env = chunk_envelope(parts[i]);
      ChunkClaims c = claims_of(kSeq, i, i + 1 == parts.size());
      if (c.last) {
        c.count = parts.size();
        c.size = whole.size();
        c.sha256 = sha256_b64url(whole);
        c.message_id = "final-message-id-1";
      }
      auto s = seal_chunk(env, c, recipients(), test::es256_sig());
      EXPECT_TRUE(s) << s.problem().one_line();
      out.push_back(std::move(env));
    }
    return out;
  }
  void expect_refused(const Envelope& env, const std::string& expect) {
    auto r = open_chunk(env, trusted_, decryption());
    ASSERT_FALSE(r) << "opened although " << expect;
    EXPECT_EQ(r.problem().kind, ProblemKind::crypto);
    EXPECT_NE(r.problem().detail.find(expect), std::string::npos) << "detail: " << r.problem().detail;
  }
  KeyRing trusted_ = ring_of({test::es256_sig().public_key()});
  const std::vector<std::string> parts_ = {std::string(1000, 'a') + "<x>", std::string(700, 'b'), "</x>tail"};
};

const Jwk* p256() { return &test::p256_enc(); }
const Jwk* x25519() { return &test::x25519_enc(); }
const Jwk* rsa() { return &test::rsa3072(); }
INSTANTIATE_TEST_SUITE_P(Keys, ChunkSeal, ::testing::Values(&p256, &x25519, &rsa),
                         [](const auto& key) { return std::string(key.index == 0 ? "P256" : key.index == 1 ? "X25519" : "RSA"); });

TEST_P(ChunkSeal, SealsAndOpensEveryChunkWithItsClaims) {
  auto records = sealed_sequence(parts_);
  std::string whole;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& env = records[i];
    EXPECT_TRUE(is_chunk_record(env));
    EXPECT_EQ(env.get(kChunkHeader), std::to_string(i));
    EXPECT_EQ(env.find(kChunkLastHeader) != nullptr, i == 2);
    auto hdr = protected_header(env);
    EXPECT_EQ(hdr["kid"], recipient().kid());
    EXPECT_EQ(hdr["cty"], "application/xml");
    EXPECT_EQ(hdr["xoev"]["id"], kSeq);
    EXPECT_EQ(hdr["xoev"]["destination"], "bauamt-wiesbaden");
    if (i < 2) {
      EXPECT_EQ(hdr["xoev"]["chunk"], (nlohmann::json{{"seq", kSeq}, {"index", i}, {"last", false}}));
    }
    auto opened = open_chunk(env, trusted_, decryption());
    ASSERT_TRUE(opened) << opened.problem().one_line();
    EXPECT_EQ(opened->plaintext, parts_[i]);
    EXPECT_EQ(opened->claims.seq, kSeq);
    EXPECT_EQ(opened->claims.index, i);
    EXPECT_EQ(opened->claims.last, i == 2);
    whole += opened->plaintext;
  }
  auto last = open_chunk(records[2], trusted_, decryption());
  EXPECT_EQ(last->claims.count, 3u);
  EXPECT_EQ(last->claims.size, whole.size());
  EXPECT_EQ(last->claims.sha256, sha256_b64url(whole));
  EXPECT_EQ(last->claims.message_id, "final-message-id-1");
  EXPECT_EQ(protected_header(records[2])["xoev"]["chunk"],
            (nlohmann::json{{"seq", kSeq}, {"index", 2}, {"last", true}, {"count", 3}, {"size", whole.size()},
                            {"sha256", sha256_b64url(whole)}, {"messageId", "final-message-id-1"}}));
}

TEST_P(ChunkSeal, AbortRecordOpensWithItsReason) {
  Envelope env = chunk_envelope("");
  ASSERT_TRUE(seal_chunk(env, claims_of(kSeq, 4, true, 0, 0, "", "", "sender disconnected"), recipients(),
                         test::es256_sig()));
  auto opened = open_chunk(env, trusted_, decryption());
  ASSERT_TRUE(opened) << opened.problem().one_line();
  EXPECT_EQ(opened->claims.abort, "sender disconnected");
  EXPECT_TRUE(opened->claims.last);
  EXPECT_EQ(opened->claims.index, 4u);
  EXPECT_TRUE(opened->plaintext.empty());
}

// Each claim changed in the protected header: the signature no longer covers the
// value, and a producer that re-signs still fails the GCM tag (the header is its AAD).
TEST_P(ChunkSeal, EveryTamperedClaimIsRefused) {
  auto records = sealed_sequence(parts_);
  const std::vector<std::pair<std::string, nlohmann::json>> tampers = {
      {"index", 1}, {"seq", "another-seq"}, {"last", false}, {"sha256", sha256_b64url("other")}, {"size", 99}};
  for (const auto& [claim, value] : tampers) {
    SCOPED_TRACE(claim);
    Envelope env = records[2];
    auto parts = test::split(env.value);
    auto hdr = protected_header(env);
    hdr["xoev"]["chunk"][claim] = value;
    parts[0] = base64url_encode(hdr.dump());
    env.value = test::join(parts);
    expect_refused(env, "the value was altered");
    resign(env, trusted_);
    expect_refused(env, "JWE");
  }
}

TEST_P(ChunkSeal, MirrorHeadersMustAgreeWithTheClaims) {
  auto records = sealed_sequence(parts_);
  Envelope moved = records[1];
  moved.set(kChunkHeader, "2");
  expect_refused(moved, "xoev-chunk does not match");
  Envelope made_last = records[1];
  made_last.set(kChunkLastHeader, "true");
  expect_refused(made_last, "xoev-chunk-last does not match");
  Envelope not_last = records[2];
  not_last.headers.erase(std::remove_if(not_last.headers.begin(), not_last.headers.end(),
                                        [](const auto& h) { return h.first == kChunkLastHeader; }),
                         not_last.headers.end());
  expect_refused(not_last, "xoev-chunk-last does not match");
}

TEST_P(ChunkSeal, ChunkRecordIsNeverOpenedAsAWholeMessage) {
  auto records = sealed_sequence(parts_);
  for (auto env : records) {
    auto r = open(env, trusted_, decryption());
    ASSERT_FALSE(r);
    EXPECT_NE(r.problem().detail.find("a chunk record is not a whole message"), std::string::npos) << r.problem().detail;
    // Without the mirror header (routing would take it for a single record): still refused.
    env.headers.erase(std::remove_if(env.headers.begin(), env.headers.end(),
                                     [](const auto& h) { return h.first == kChunkHeader; }),
                      env.headers.end());
    EXPECT_FALSE(is_chunk_record(env));
    EXPECT_FALSE(open(env, trusted_, decryption()));
  }
}

TEST_P(ChunkSeal, SingleRecordIsNotAChunk) {
  Envelope env = chunk_envelope("<x>whole</x>");
  ASSERT_TRUE(seal(env, recipients(), test::es256_sig()));
  EXPECT_FALSE(is_chunk_record(env));
  expect_refused(env, "no chunk member");
  env.set(kChunkHeader, "0");
  env.set(kChunkLastHeader, "true");
  EXPECT_TRUE(is_chunk_record(env));
  expect_refused(env, "no chunk member");
}

TEST_P(ChunkSeal, ChunkUnderAnotherSequenceKeyIsRefused) {
  auto records = sealed_sequence(parts_);
  Envelope env = records[1];
  env.key = "0d5b2f7e-other-seq";  // the key is not signed; seq must equal it
  expect_refused(env, "seq does not match the record key");
  // A chunk of another sequence carried over with its headers rewritten: the signature breaks.
  Envelope other = sealed_sequence(parts_)[1];
  other.key = "0d5b2f7e-other-seq";
  other.set(header::message_id, other.key);
  expect_refused(other, "header xoev-message-id was altered");
}

TEST(ChunkSealShape, SealRefusesClaimsThatContradictTheFormat) {
  KeyRing to = ring_of({test::x25519_enc().public_key()});
  auto try_seal = [&](Envelope env, const ChunkClaims& c) { return seal_chunk(env, c, to, test::es256_sig()); };
  const std::string hash = sha256_b64url("abc");
  EXPECT_TRUE(try_seal(chunk_envelope("abc"), claims_of(kSeq, 0, true, 1, 3, hash, "m-1")));
  EXPECT_FALSE(try_seal(chunk_envelope("abc"), claims_of("other", 0, false)));                   // seq ≠ key
  EXPECT_FALSE(try_seal(chunk_envelope("abc", "../x"), claims_of("../x", 0, false)));               // not a token
  EXPECT_FALSE(try_seal(chunk_envelope(""), claims_of(kSeq, 0, false)));                         // empty inner chunk
  EXPECT_FALSE(try_seal(chunk_envelope("abc"), claims_of(kSeq, 0, true, 2, 3, hash, "m-1")));    // count ≠ index + 1
  EXPECT_FALSE(try_seal(chunk_envelope("abc"), claims_of(kSeq, 0, true, 1, 2, hash, "m-1")));    // size too small
  EXPECT_FALSE(try_seal(chunk_envelope("abc"), claims_of(kSeq, 0, true, 1, 3, "abc", "m-1")));   // not a hash
  EXPECT_FALSE(try_seal(chunk_envelope("abc"), claims_of(kSeq, 0, true, 1, 3, hash, "a/b")));    // messageId
  EXPECT_FALSE(try_seal(chunk_envelope("abc"), claims_of(kSeq, 0, false, 1, 3, hash, "m-1")));   // last-only on inner
  EXPECT_FALSE(try_seal(chunk_envelope("abc"), claims_of(kSeq, 0, true, 0, 0, "", "", "why")));  // abort with bytes
}

// A correctly signed record whose chunk member is malformed (a producer bug): refused
// by the shape check, never trusted.
TEST(ChunkSealShape, OpenRefusesMalformedChunkClaims) {
  KeyRing to = ring_of({test::x25519_enc().public_key()});
  KeyRing dec = ring_of({test::x25519_enc()});
  KeyRing trusted = ring_of({test::es256_sig().public_key()});
  const std::string hash = sha256_b64url("abc");
  const std::string seq = "\"seq\":\"" + kSeq + "\"";
  const std::vector<std::tuple<std::string, std::string, bool, std::string>> cases = {
      // chunk members text, plaintext, last mirror, expected detail
      {"\"chunk\":{" + seq + ",\"index\":0,\"last\":false,\"extra\":1}", "abc", false, "unknown member"},
      {"\"chunk\":{" + seq + ",\"index\":-1,\"last\":false}", "abc", false, "index"},
      {"\"chunk\":{" + seq + ",\"index\":\"0\",\"last\":false}", "abc", false, "index"},
      {"\"chunk\":{" + seq + ",\"index\":0,\"last\":\"no\"}", "abc", false, "last is not a boolean"},
      {"\"chunk\":{\"index\":0,\"last\":false}", "abc", false, "seq missing"},
      {"\"chunk\":{\"seq\":\"other\",\"index\":0,\"last\":false}", "abc", false, "seq does not match"},
      {"\"chunk\":{" + seq + ",\"index\":0,\"last\":false}", "", false, "empty chunk"},
      {"\"chunk\":{" + seq + ",\"index\":0,\"last\":false,\"size\":3}", "abc", false, "not the last"},
      {"\"chunk\":{" + seq + ",\"index\":0,\"last\":true,\"size\":3,\"sha256\":\"" + hash + "\",\"messageId\":\"m\"}",
       "abc", true, "count missing"},
      {"\"chunk\":{" + seq + ",\"index\":1,\"last\":true,\"count\":1,\"size\":3,\"sha256\":\"" + hash +
           "\",\"messageId\":\"m\"}", "abc", true, "count is not index + 1"},
      {"\"chunk\":{" + seq + ",\"index\":1,\"last\":true,\"count\":2,\"size\":3,\"sha256\":\"" + hash +
           "\",\"messageId\":\"m\"}", "abc", true, "size is smaller"},
      {"\"chunk\":{" + seq + ",\"index\":0,\"last\":true,\"count\":1,\"size\":3,\"sha256\":\"xx\",\"messageId\":\"m\"}",
       "abc", true, "sha256 is not"},
      {"\"chunk\":{" + seq + ",\"index\":0,\"last\":true,\"count\":1,\"size\":3,\"sha256\":\"" + hash +
           "\",\"messageId\":\"../m\"}", "abc", true, "messageId is not"},
      {"\"chunk\":{" + seq + ",\"index\":0,\"last\":false,\"abort\":\"x\"}", "", false, "abort on a chunk"},
      {"\"chunk\":{" + seq + ",\"index\":0,\"last\":true,\"abort\":\"x\"}", "abc", true, "abort record carries bytes"},
      {"\"chunk\":7", "abc", false, "not an object"},
  };
  for (const auto& [members, plaintext, last, expect] : cases) {
    SCOPED_TRACE(members);
    Envelope env = chunk_envelope(plaintext);
    ASSERT_TRUE(envelope_parts::seal_with(env, to, test::es256_sig(), members));
    env.set(kChunkHeader, "0");
    if (members.find("\"index\":1") != std::string::npos) env.set(kChunkHeader, "1");
    if (last) env.set(kChunkLastHeader, "true");
    auto r = open_chunk(env, trusted, dec);
    ASSERT_FALSE(r);
    EXPECT_NE(r.problem().detail.find(expect), std::string::npos) << r.problem().detail;
  }
}

}  // namespace
}  // namespace xoev::crypto
