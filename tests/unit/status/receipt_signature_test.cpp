// Signed receipts: what a trusted publisher signed verifies; any change to the key,
// the value or the signature, an untrusted or unknown key, a record signature in its
// place, or a receipt about another id than its key does not. The receipts tracker
// applies only what verifies and counts the rest.
#include "gateway/status/receipt_signature.h"

#include <gtest/gtest.h>

#include <deque>

#include "gateway/crypto/envelope_seal.h"
#include "gateway/kafka/topic_names.h"
#include "gateway/status/receipt_publisher.h"
#include "gateway/status/receipts_tracker.h"

namespace xoev {
namespace {

const crypto::Jwk& publisher_key() {
  static const crypto::Jwk k = crypto::Jwk::generate(crypto::Jwk::Type::ec_p256, "deliverer-1", "ES256").value();
  return k;
}
const crypto::Jwk& other_key() {
  static const crypto::Jwk k = crypto::Jwk::generate(crypto::Jwk::Type::ed25519, "attacker", "EdDSA").value();
  return k;
}
crypto::KeyRing ring(const crypto::Jwk& k) {
  crypto::KeyRing r;
  EXPECT_TRUE(r.add(k.public_key()).ok());
  return r;
}

Receipt receipt_of(const std::string& id, ReceiptStatus status) {
  Receipt r;
  r.message_id = id;
  r.destination = "standesamt";
  r.status = status;
  r.at = "2026-01-02T03:04:05Z";
  return r;
}

Envelope receipt_record(const std::string& id, ReceiptStatus status, const crypto::Jwk& key) {
  const Receipt r = receipt_of(id, status);
  Envelope env;
  env.topic = std::string(names::kReceiptsTopic);
  env.key = id;
  env.value = r.to_json();
  EXPECT_TRUE(sign_receipt(env, key).ok());
  return env;
}

std::string& signature_of(Envelope& env) {
  for (auto& [k, v] : env.headers)
    if (k == header::signature) return v;
  throw std::logic_error("no signature");
}

TEST(ReceiptSignature, ASignedReceiptVerifies) {
  const auto env = receipt_record("m1", ReceiptStatus::delivered, publisher_key());
  auto r = verify_receipt(env, ring(publisher_key()));
  ASSERT_TRUE(r.ok()) << r.problem().detail;
  EXPECT_EQ(r->message_id, "m1");
  EXPECT_EQ(r->status, ReceiptStatus::delivered);
}

TEST(ReceiptSignature, AnAlteredValueDoesNotVerify) {
  auto env = receipt_record("m1", ReceiptStatus::rejected, publisher_key());
  env.value.replace(env.value.find("rejected"), 8, "accepted");
  EXPECT_FALSE(verify_receipt(env, ring(publisher_key())).ok());
}

TEST(ReceiptSignature, AnAlteredKeyDoesNotVerify) {
  auto env = receipt_record("m1", ReceiptStatus::delivered, publisher_key());
  env.key = "m2";
  EXPECT_FALSE(verify_receipt(env, ring(publisher_key())).ok());
}

TEST(ReceiptSignature, AnAlteredSignatureDoesNotVerify) {
  auto env = receipt_record("m1", ReceiptStatus::delivered, publisher_key());
  std::string& sig = signature_of(env);
  sig[sig.size() - 5] = sig[sig.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_receipt(env, ring(publisher_key())).ok());
  // ...and the signed payload swapped for another's:
  auto other = receipt_record("m2", ReceiptStatus::delivered, publisher_key());
  auto mixed = receipt_record("m1", ReceiptStatus::delivered, publisher_key());
  const std::string& o = signature_of(other);
  std::string& m = signature_of(mixed);
  const auto o1 = o.find('.'), o2 = o.rfind('.');
  const auto m1 = m.find('.'), m2 = m.rfind('.');
  m = m.substr(0, m1) + o.substr(o1, o2 - o1) + m.substr(m2);
  EXPECT_FALSE(verify_receipt(mixed, ring(publisher_key())).ok());
}

TEST(ReceiptSignature, AnUntrustedSignerDoesNotVerify) {
  const auto env = receipt_record("m1", ReceiptStatus::delivered, other_key());
  auto r = verify_receipt(env, ring(publisher_key()));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.problem().detail.find("kid"), std::string::npos) << r.problem().detail;
}

TEST(ReceiptSignature, AnUnsignedOrTwiceSignedReceiptDoesNotVerify) {
  auto env = receipt_record("m1", ReceiptStatus::delivered, publisher_key());
  Envelope twice = env;
  twice.headers.emplace_back(std::string(header::signature), signature_of(env));
  EXPECT_FALSE(verify_receipt(twice, ring(publisher_key())).ok());
  env.headers.clear();
  EXPECT_FALSE(verify_receipt(env, ring(publisher_key())).ok());
}

// A trusted signer's receipt about another message than its key is not applied.
TEST(ReceiptSignature, AReceiptAboutAnotherIdThanItsKeyDoesNotVerify) {
  auto env = receipt_record("m1", ReceiptStatus::delivered, publisher_key());
  env.key = "m2";
  ASSERT_TRUE(sign_receipt(env, publisher_key()).ok());  // key and value signed as they are
  EXPECT_FALSE(verify_receipt(env, ring(publisher_key())).ok());
}

// A record's envelope signature is no receipt signature, even by the same key.
TEST(ReceiptSignature, AnEnvelopeSignatureIsNoReceiptSignature) {
  const auto dest = crypto::Jwk::generate(crypto::Jwk::Type::x25519, "d-1", "ECDH-ES+A256KW").value();
  Envelope record;
  record.key = "m1";
  record.set(header::message_id, "m1");
  record.set(header::message_type, "t");
  record.set(header::sender, "a:1");
  record.set(header::recipient, "b:2");
  record.set(header::destination, "standesamt");
  record.value = "<x/>";
  ASSERT_TRUE(crypto::seal(record, ring(dest), publisher_key()).ok());
  auto env = receipt_record("m1", ReceiptStatus::delivered, publisher_key());
  signature_of(env) = *record.find(header::signature);
  EXPECT_FALSE(verify_receipt(env, ring(publisher_key())).ok());
}

class ListSource : public RecordSource {
 public:
  explicit ListSource(std::vector<Envelope> records) {
    int64_t offset = 0;
    for (auto& e : records) pending_.push_back({std::move(e), 0, offset++, -1});
  }
  Result<std::optional<ConsumedRecord>> poll(std::chrono::milliseconds) override {
    if (pending_.empty()) {
      drained_ = true;
      return std::optional<ConsumedRecord>{};
    }
    ConsumedRecord r = std::move(pending_.front());
    pending_.pop_front();
    return std::optional<ConsumedRecord>{std::move(r)};
  }
  Status commit(const ConsumedRecord&) override { return ok_status(); }
  Result<bool> caught_up() override { return drained_; }
  void close() override {}

 private:
  std::deque<ConsumedRecord> pending_;
  bool drained_ = false;
};

TEST(ReceiptsTracker, AppliesOnlyVerifiedReceiptsAndCountsTheRest) {
  Envelope unsigned_one = receipt_record("m2", ReceiptStatus::delivered, publisher_key());
  unsigned_one.headers.clear();
  ListSource source({receipt_record("m1", ReceiptStatus::accepted, publisher_key()),
                     receipt_record("m1", ReceiptStatus::delivered, other_key()),  // forged: untrusted key
                     unsigned_one});
  StatusStore store;
  ReceiptsTracker tracker(store, ring(publisher_key()));
  std::vector<std::pair<std::string, ReceiptStatus>> hooked;  // (id, status of the applied receipt)
  tracker.on_applied([&](const Receipt& r) { hooked.emplace_back(r.message_id, r.status); });
  std::stop_source stop;
  std::jthread t([&] { tracker.run(source, stop.get_token()); });
  for (int i = 0; i < 200 && !tracker.caught_up(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop.request_stop();
  t.join();
  ASSERT_TRUE(tracker.caught_up());
  EXPECT_EQ(tracker.applied(), 1u);
  EXPECT_EQ(tracker.unverified(), 2u);
  auto m1 = store.get("m1");
  ASSERT_TRUE(m1);
  EXPECT_EQ(m1->status, ReceiptStatus::accepted) << "the forged 'delivered' must not count";
  EXPECT_FALSE(store.get("m2"));
  // The pipeline hears of applied receipts only (it restates its own overtaken ones).
  EXPECT_EQ(hooked, (std::vector<std::pair<std::string, ReceiptStatus>>{{"m1", ReceiptStatus::accepted}}));
}

// Keeps what a ReceiptPublisher produces, as the broker would store it.
class KeepingSink : public RecordSink {
 public:
  void produce(Envelope env, AckCallback cb) override {
    kept.push_back(std::move(env));
    cb(BrokerAck{});
  }
  std::vector<Envelope> kept;
};

// Tracks receipts from `records` until caught up.
void track(ReceiptsTracker& tracker, std::vector<Envelope> records) {
  ListSource source(std::move(records));
  std::stop_source stop;
  std::jthread t([&] { tracker.run(source, stop.get_token()); });
  for (int i = 0; i < 200 && !tracker.caught_up(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop.request_stop();
}

// What this process signed comes back byte for byte and is applied without a second
// look at its signature (shown here by stripping it); the same bytes again, other bytes
// under its signature, or its own receipts under a key the tracker does not trust, are
// verified as always.
TEST(ReceiptsTracker, ItsOwnProcesssReceiptsAreRecognisedByTheirBytesNotVerifiedAgain) {
  StatusStore store;
  ReceiptsTracker tracker(store, ring(publisher_key()));  // from here on, this process remembers
  KeepingSink sink;
  ReceiptPublisher publisher(sink, publisher_key());
  publisher.publish(receipt_of("own-1", ReceiptStatus::accepted));
  publisher.publish(receipt_of("own-2", ReceiptStatus::accepted));
  ASSERT_EQ(sink.kept.size(), 2u);
  Envelope own = sink.kept[0];
  own.headers.clear();  // no signature: only its bytes can vouch for it
  Envelope again = own;  // recognised once; a copy is just an unsigned record
  Envelope altered = sink.kept[1];
  altered.value.replace(altered.value.find("accepted"), 8, "rejected");
  track(tracker, {own, again, altered});
  EXPECT_EQ(tracker.applied(), 1u);
  EXPECT_EQ(tracker.unverified(), 2u);
  ASSERT_TRUE(store.get("own-1"));
  EXPECT_FALSE(store.get("own-2")) << "an altered value under its signature is not its own";

  // Signed here, but by a key the tracker does not trust (same kid, other key).
  const crypto::Jwk impostor = crypto::Jwk::generate(crypto::Jwk::Type::ec_p256, "deliverer-1", "ES256").value();
  ReceiptPublisher other(sink, impostor);
  other.publish(receipt_of("own-3", ReceiptStatus::delivered));
  StatusStore store2;
  ReceiptsTracker tracker2(store2, ring(publisher_key()));
  track(tracker2, {sink.kept.back()});
  EXPECT_EQ(tracker2.applied(), 0u);
  EXPECT_FALSE(store2.get("own-3"));
}

}  // namespace
}  // namespace xoev
