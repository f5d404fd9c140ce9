// The delivery loop against fakes of its three seams (record source, record sink,
// outbound adapter), with real crypto and a real ledger file: what it commits, when,
// and what it never commits.
#include "gateway/delivery/delivery_loop.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>

#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "gateway/audit/audit_log.h"
#include "gateway/crypto/base64url.h"
#include "gateway/crypto/chunk_seal.h"
#include "gateway/crypto/envelope_seal.h"
#include "gateway/crypto/jwk.h"
#include "gateway/kafka/embedded_cluster.h"
#include "gateway/kafka/topic_names.h"
#include "gateway/status/receipt_signature.h"
#include "tests/support/files.h"

namespace xoev {
namespace {

using namespace std::chrono_literals;

// What happened, in order, across the fakes.
class Events {
 public:
  void add(std::string e) {
    std::lock_guard lock(mu_);
    log_.push_back(std::move(e));
  }
  std::vector<std::string> all() const {
    std::lock_guard lock(mu_);
    return log_;
  }
  size_t count(const std::string& e) const {
    const auto l = all();
    return static_cast<size_t>(std::count(l.begin(), l.end(), e));
  }
  // Position of the first event starting with `prefix`, or -1.
  long first_starting_with(const std::string& prefix) const {
    const auto l = all();
    for (size_t i = 0; i < l.size(); ++i)
      if (l[i].rfind(prefix, 0) == 0) return static_cast<long>(i);
    return -1;
  }
  size_t count_starting_with(const std::string& prefix) const {
    const auto l = all();
    return static_cast<size_t>(std::count_if(l.begin(), l.end(), [&](const auto& e) { return e.rfind(prefix, 0) == 0; }));
  }
  // Position of the first occurrence, or -1.
  long index_of(const std::string& e) const {
    const auto l = all();
    auto it = std::find(l.begin(), l.end(), e);
    return it == l.end() ? -1 : it - l.begin();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> log_;
};

class FakeSource : public RecordSource {
 public:
  FakeSource(Events& events, std::filesystem::path ledger_file) : events_(events), ledger_file_(std::move(ledger_file)) {}
  void push(ConsumedRecord r) {
    std::lock_guard lock(mu_);
    pending_.push_back(std::move(r));
  }
  Result<std::optional<ConsumedRecord>> poll(std::chrono::milliseconds) override {
    std::unique_lock lock(mu_);
    if (pending_.empty()) {
      lock.unlock();
      std::this_thread::sleep_for(5ms);
      return std::optional<ConsumedRecord>{};
    }
    ConsumedRecord r = std::move(pending_.front());
    pending_.pop_front();
    return std::optional<ConsumedRecord>{std::move(r)};
  }
  Status commit(const ConsumedRecord& r) override {
    // What the ledger file holds at the moment the offset moves on.
    const bool in_ledger = test::read_file(ledger_file_).find(" " + r.env.key) != std::string::npos;
    events_.add("commit " + r.env.key + (in_ledger ? " (in ledger)" : " (not in ledger)"));
    if (on_commit) on_commit(r);
    return ok_status();
  }
  std::function<void(const ConsumedRecord&)> on_commit;  // set before start()
  Result<bool> caught_up() override { return at_end.load(); }
  // One partition while `assigned` (a group member that holds its partitions).
  std::vector<PartitionLag> lag() override {
    if (!assigned) return {};
    return {PartitionLag{"xoev.standesamt", 0, 0, 0}};
  }
  void close() override {}
  std::atomic<bool> assigned{true}, at_end{true};

 private:
  Events& events_;
  std::filesystem::path ledger_file_;
  std::mutex mu_;
  std::deque<ConsumedRecord> pending_;
};

// Acknowledges at once, except what `refuse` picks. Receipts are logged as
// "receipt <status> <id>", dead letters as "dead letter <id>"; refused ones get " refused".
class FakeSink : public RecordSink {
 public:
  explicit FakeSink(Events& events) : events_(events) {}
  std::function<bool(const std::string& event)> refuse = [](const std::string&) { return false; };

  void produce(Envelope env, AckCallback cb) override {
    std::string e;
    if (env.topic == names::kReceiptsTopic) {
      {
        std::lock_guard lock(mu_);
        last_receipt_ = env;
      }
      auto r = Receipt::from_json(env.value);
      e = "receipt " + std::string(r ? to_string(r->status) : "?") + " " + env.key;
    } else if (env.topic == names::dlq_topic("standesamt")) {
      e = "dead letter " + env.key;
      std::lock_guard lock(mu_);
      dead_letters_.push_back(env);
    } else {
      e = "produce " + env.topic + " " + env.key;
    }
    if (refuse(e)) {
      events_.add(e + " refused");
      return cb(Problem::make(ProblemKind::broker_unavailable, "test: broker gone"));
    }
    events_.add(e);
    cb(BrokerAck{0, next_offset_++});
  }
  bool last_receipt_verified_with(const crypto::KeyRing& trusted) const {
    std::lock_guard lock(mu_);
    return last_receipt_ && verify_receipt(*last_receipt_, trusted).ok();
  }
  std::vector<Envelope> dead_letters() const {
    std::lock_guard lock(mu_);
    return dead_letters_;
  }

 private:
  Events& events_;
  mutable std::mutex mu_;
  std::vector<Envelope> dead_letters_;
  std::optional<Envelope> last_receipt_;
  std::atomic<int64_t> next_offset_{0};
};

class FakeAdapter : public OutboundAdapter {
 public:
  FakeAdapter(Events& events, std::function<DeliveryOutcome(const Message&)> script)
      : events_(events), script_(std::move(script)) {}
  std::string_view type() const override { return "fake"; }
  bool groups = true;  // as the file adapter: repeats invisible, groups allowed
  bool concurrent = false;  // as the HTTP adapter with max_in_flight: an outcome for every message
  bool delivers_groups() const override { return groups; }
  std::vector<DeliveryOutcome> deliver_group(const std::vector<const Message*>& messages) override {
    events_.add("group of " + std::to_string(messages.size()));
    if (!concurrent) return OutboundAdapter::deliver_group(messages);
    std::vector<DeliveryOutcome> outcomes;
    for (const Message* m : messages) outcomes.push_back(deliver(*m));
    return outcomes;
  }
  DeliveryOutcome deliver(const Message& m) override {
    events_.add("deliver " + m.message_id);
    {
      std::lock_guard lock(mu_);
      seen_.push_back(m);
    }
    return script_(m);
  }
  std::vector<Message> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  Events& events_;
  std::function<DeliveryOutcome(const Message&)> script_;
  mutable std::mutex mu_;
  std::vector<Message> seen_;
};

const crypto::Jwk& gateway_key() {
  static const crypto::Jwk k = crypto::Jwk::generate(crypto::Jwk::Type::ec_p256, "gw-1", "ES256").value();
  return k;
}
const crypto::Jwk& destination_key() {
  static const crypto::Jwk k = crypto::Jwk::generate(crypto::Jwk::Type::x25519, "d-1", "ECDH-ES+A256KW").value();
  return k;
}
const crypto::Jwk& deliverer_key() {
  static const crypto::Jwk k = crypto::Jwk::generate(crypto::Jwk::Type::ed25519, "deliverer-1", "EdDSA").value();
  return k;
}
crypto::KeyRing ring(const crypto::Jwk& k) {
  crypto::KeyRing r;
  EXPECT_TRUE(r.add(k).ok());
  return r;
}

// A record as the gateway produces it: headers, then sealed (JWE + gateway JWS).
ConsumedRecord sealed_record(const std::string& id, int64_t offset, const std::string& destination = "standesamt") {
  Envelope env;
  env.topic = "xoev.standesamt";
  env.key = id;
  env.set(header::message_id, id);
  env.set(header::message_type, "geburt.0101");
  env.set(header::standard, "XPersonenstand");
  env.set(header::sender, "psw:01");
  env.set(header::recipient, "psw:02");
  env.set(header::destination, destination);
  env.set(header::accepted_at, "2026-01-02T03:04:05Z");
  env.set(header::content_type, "application/xml");
  env.set(header::traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  env.set(header::route, "geburten");
  env.value = "<nachricht id=\"" + id + "\"/>";
  EXPECT_TRUE(crypto::seal(env, ring(destination_key().public_key()), gateway_key()).ok());
  ConsumedRecord r;
  r.env = std::move(env);
  r.partition = 0;
  r.offset = offset;
  r.timestamp_ms = -1;
  return r;
}

struct Harness {
  Events events;
  test::TempDir dir{"xoev-delivery-"};
  std::filesystem::path ledger_file = dir.path / "standesamt.delivered";
  FakeSource source{events, ledger_file};
  FakeSink sink{events};
  FakeAdapter* adapter = nullptr;
  std::unique_ptr<DeliveryLoop> loop;
  std::jthread thread;

  explicit Harness(std::function<DeliveryOutcome(const Message&)> script,
                   const std::vector<std::string>& delivered_before = {}, BacklogMonitor* dead_letter_backlog = nullptr,
                   std::optional<std::chrono::seconds> chunk_timeout = std::nullopt,
                   std::optional<std::filesystem::path> chunk_dir = std::nullopt) {
    DeliveryLoop::Parts parts;
    parts.destination.id = "standesamt";
    parts.destination.topic = "xoev.standesamt";
    parts.destination.adapter.max_attempts = 3;
    parts.destination.adapter.initial_backoff = 1ms;
    parts.destination.adapter.max_backoff = 5ms;
    parts.trusted = ring(gateway_key().public_key());
    parts.decryption = ring(destination_key());
    parts.signing_key = deliverer_key();
    parts.dead_letter_backlog = dead_letter_backlog;
    auto a = std::make_unique<FakeAdapter>(events, std::move(script));
    adapter = a.get();
    parts.adapter = std::move(a);
    auto ledger = DeliveredLedger::open(ledger_file, std::chrono::hours(24));
    EXPECT_TRUE(ledger.ok());
    for (const auto& id : delivered_before) EXPECT_TRUE((*ledger)->record(id).ok());
    parts.ledger = std::move(ledger).value();
    if (chunk_timeout) {
      parts.destination.adapter.chunk_timeout = *chunk_timeout;
      auto assembler = ChunkAssembler::open(chunk_dir.value_or(dir.path / "standesamt.chunks"), *chunk_timeout, 1u << 30);
      EXPECT_TRUE(assembler.ok());
      parts.assembler = std::move(assembler).value();
    }
    loop = std::make_unique<DeliveryLoop>(std::move(parts), sink);
  }
  ~Harness() { stop(); }

  void start() {
    thread = std::jthread([this](std::stop_token stop) { loop->run(source, stop); });
  }
  void stop() {
    thread.request_stop();
    if (thread.joinable()) thread.join();
  }
  bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (done()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return done();
  }
  bool wait_for_event(const std::string& e) {
    return wait_for([&] { return events.index_of(e) >= 0; });
  }
};

DeliveryOutcome delivered(const Message&) { return Delivered{"written"}; }

TEST(DeliveryLoop, DeliversThenLedgerThenReceiptThenCommits) {
  Harness h(delivered);
  h.source.push(sealed_record("m1", 0));
  h.start();
  ASSERT_TRUE(h.wait_for_event("commit m1 (in ledger)")) << testing::PrintToString(h.events.all());
  const long deliver = h.events.index_of("deliver m1");
  const long receipt = h.events.index_of("receipt delivered m1");
  ASSERT_GE(deliver, 0);
  ASSERT_GE(receipt, 0);
  EXPECT_LT(deliver, receipt);
  EXPECT_LT(receipt, h.events.first_starting_with("commit"));
  EXPECT_EQ(h.events.count_starting_with("commit"), 1u) << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count("deliver m1"), 1u);

  // The adapter saw the opened body and the routing facts from the signed headers.
  const auto seen = h.adapter->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].body, "<nachricht id=\"m1\"/>");
  EXPECT_EQ(seen[0].route, "geburten");
  EXPECT_EQ(seen[0].traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(seen[0].recipient, "psw:02");
  EXPECT_EQ(seen[0].attempt, 1);
}

TEST(DeliveryLoop, AMessageInTheLedgerIsNotDeliveredAgainButCommitted) {
  Harness h(delivered, {"m1"});
  h.source.push(sealed_record("m1", 0));
  h.start();
  ASSERT_TRUE(h.wait_for_event("commit m1 (in ledger)")) << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count("deliver m1"), 0u);
  ASSERT_GE(h.events.index_of("receipt delivered m1"), 0);
  EXPECT_LT(h.events.index_of("receipt delivered m1"), h.events.first_starting_with("commit"));
}

TEST(DeliveryLoop, TheOffsetWaitsUntilTheReceiptIsStored) {
  Harness h(delivered);
  int refusals = 0;
  h.sink.refuse = [&](const std::string& e) { return e == "receipt delivered m1" && refusals++ < 2; };
  h.source.push(sealed_record("m1", 0));
  h.start();
  ASSERT_TRUE(h.wait_for_event("commit m1 (in ledger)")) << testing::PrintToString(h.events.all());
  // refused, refused, stored — and only then the commit.
  EXPECT_EQ(h.events.count("receipt delivered m1 refused"), 2u);
  ASSERT_GE(h.events.index_of("receipt delivered m1"), 0);
  EXPECT_LT(h.events.index_of("receipt delivered m1"), h.events.first_starting_with("commit"));
  EXPECT_EQ(h.events.count_starting_with("commit"), 1u);
  EXPECT_EQ(h.events.count("deliver m1"), 1u) << "a receipt retry must not deliver again";
}

TEST(DeliveryLoop, StoppedWhileTheReceiptCannotBeStoredCommitsNothing) {
  Harness h(delivered);
  h.sink.refuse = [](const std::string& e) { return e.rfind("receipt delivered", 0) == 0; };
  h.source.push(sealed_record("m1", 0));
  h.source.push(sealed_record("m2", 1));
  h.start();
  ASSERT_TRUE(h.wait_for([&] { return h.events.count("receipt delivered m1 refused") >= 2; }))
      << testing::PrintToString(h.events.all());
  h.stop();
  for (const auto& e : h.events.all()) EXPECT_EQ(e.rfind("commit", 0), std::string::npos) << e;
  // m2 may have been delivered in m1's group, after m1; never on its own past m1.
  EXPECT_LE(h.events.count("deliver m2"), 1u);
  if (h.events.count("deliver m2") == 1) {
    EXPECT_LT(h.events.index_of("deliver m1"), h.events.index_of("deliver m2"));
  }
  EXPECT_EQ(h.events.count_starting_with("group of 1"), h.events.count("deliver m2") == 1 ? 0u : 1u)
      << testing::PrintToString(h.events.all());
}

// Records already fetched go to the adapter as one group: one ledger sync for all of
// them, every receipt stored, then one commit per partition.
TEST(DeliveryLoop, FetchedRecordsAreDeliveredAsOneGroupAndCommittedOncePerPartition) {
  Harness h(delivered);
  for (int i = 0; i < 5; ++i) h.source.push(sealed_record("p0-" + std::to_string(i), i));
  for (int i = 0; i < 3; ++i) {
    auto r = sealed_record("p1-" + std::to_string(i), i);
    r.partition = 1;
    h.source.push(std::move(r));
  }
  h.start();
  ASSERT_TRUE(h.wait_for([&] { return h.events.count_starting_with("commit") == 2; }))
      << testing::PrintToString(h.events.all());
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(h.events.count("group of 8"), 1u) << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count_starting_with("commit"), 2u) << "one commit per partition";
  EXPECT_GE(h.events.index_of("commit p0-4 (in ledger)"), 0) << testing::PrintToString(h.events.all());
  EXPECT_GE(h.events.index_of("commit p1-2 (in ledger)"), 0) << testing::PrintToString(h.events.all());
  const long first_commit = h.events.first_starting_with("commit");
  for (const std::string id : {"p0-0", "p0-1", "p0-2", "p0-3", "p0-4", "p1-0", "p1-1", "p1-2"}) {
    const long receipt = h.events.index_of("receipt delivered " + id);
    ASSERT_GE(receipt, 0) << id;
    EXPECT_LT(receipt, first_commit) << id << ": every receipt is stored before an offset moves";
    EXPECT_NE(test::read_file(h.ledger_file).find(" " + id + "\n"), std::string::npos) << id;
  }
  // In order, once each.
  const auto seen = h.adapter->seen();
  ASSERT_EQ(seen.size(), 8u);
  EXPECT_EQ(seen[0].message_id, "p0-0");
  EXPECT_EQ(seen[4].message_id, "p0-4");
}

// A retry inside a group ends it: the ones before are finished (committed) first, the
// one that failed is retried alone, and the ones after it wait for it.
TEST(DeliveryLoop, ARetryInsideAGroupFinishesTheOnesBeforeAndHoldsTheOnesAfter) {
  std::atomic<int> m3_tries{0};
  Harness h([&](const Message& m) -> DeliveryOutcome {
    if (m.message_id == "m3" && m3_tries++ == 0) return Retry{1ms, "busy"};
    return Delivered{"written"};
  });
  for (int i = 1; i <= 5; ++i) h.source.push(sealed_record("m" + std::to_string(i), i - 1));
  h.start();
  ASSERT_TRUE(h.wait_for_event("commit m5 (in ledger)")) << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count("group of 5"), 1u) << testing::PrintToString(h.events.all());
  // m1, m2 committed before m3's second try; m4 only after m3 was delivered and committed.
  const long m2_commit = h.events.index_of("commit m2 (in ledger)");
  const long m3_commit = h.events.index_of("commit m3 (in ledger)");
  ASSERT_GE(m2_commit, 0) << testing::PrintToString(h.events.all());
  ASSERT_GE(m3_commit, 0);
  const auto all = h.events.all();
  long second_m3 = -1;
  for (size_t i = 0, n = 0; i < all.size(); ++i)
    if (all[i] == "deliver m3" && ++n == 2) second_m3 = static_cast<long>(i);
  ASSERT_GE(second_m3, 0);
  EXPECT_LT(m2_commit, second_m3);
  EXPECT_LT(m3_commit, h.events.index_of("deliver m4"));
  EXPECT_EQ(h.events.count("deliver m4"), 1u);
  EXPECT_EQ(h.events.count("deliver m5"), 1u);
  EXPECT_EQ(h.events.count("receipt failed m3"), 1u);
}

// A concurrent adapter (HTTP, max_in_flight) sent the whole group: after a retry inside
// it, the ones after it that the target already took are recorded with the outcome they
// got, never sent again, and still committed only after the retried one.
TEST(DeliveryLoop, AfterARetryInAConcurrentGroupTheOthersKeepTheirOutcomesAndTheirOrder) {
  std::atomic<int> m3_tries{0};
  Harness h([&](const Message& m) -> DeliveryOutcome {
    if (m.message_id == "m3" && m3_tries++ == 0) return Retry{1ms, "busy"};
    return Delivered{"written"};
  });
  h.adapter->concurrent = true;
  for (int i = 1; i <= 5; ++i) h.source.push(sealed_record("m" + std::to_string(i), i - 1));
  h.start();
  ASSERT_TRUE(h.wait_for_event("commit m5 (in ledger)")) << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count("group of 5"), 1u) << testing::PrintToString(h.events.all());
  for (const char* id : {"m1", "m2", "m4", "m5"})
    EXPECT_EQ(h.events.count(std::string("deliver ") + id), 1u) << id << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count("deliver m3"), 2u);
  EXPECT_LT(h.events.index_of("commit m3 (in ledger)"), h.events.index_of("commit m4 (in ledger)"));
  EXPECT_EQ(h.events.count("receipt delivered m4"), 1u) << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count("receipt forwarded m4"), 1u) << testing::PrintToString(h.events.all());
}

// An adapter whose repeats the target would see (HTTP) gets one message at a time, each
// in the ledger and committed before the next is delivered: a kill -9 repeats one.
TEST(DeliveryLoop, AnAdapterWithoutGroupsGetsOneMessageAtATimeEachInTheLedgerFirst) {
  Harness h(delivered);
  h.adapter->groups = false;
  for (int i = 1; i <= 3; ++i) h.source.push(sealed_record("m" + std::to_string(i), i - 1));
  h.start();
  ASSERT_TRUE(h.wait_for_event("commit m3 (in ledger)")) << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count_starting_with("group of"), 0u) << testing::PrintToString(h.events.all());
  EXPECT_LT(h.events.index_of("commit m1 (in ledger)"), h.events.index_of("deliver m2"));
  EXPECT_LT(h.events.index_of("commit m2 (in ledger)"), h.events.index_of("deliver m3"));
}

// The same message twice in one fetch (a replay beside the original): delivered once.
TEST(DeliveryLoop, TheSameIdTwiceInOneGroupIsDeliveredOnce) {
  Harness h(delivered);
  h.source.push(sealed_record("m1", 0));
  h.source.push(sealed_record("m1", 1));
  h.source.push(sealed_record("m2", 2));
  h.start();
  ASSERT_TRUE(h.wait_for_event("commit m2 (in ledger)")) << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count("deliver m1"), 1u) << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count("receipt delivered m1"), 2u) << "the repeat is answered from the ledger";
  EXPECT_EQ(h.events.count("deliver m2"), 1u);
}

// The same without groups (an HTTP target): the twin is screened again once the first
// was delivered, and the ledger suppresses it.
TEST(DeliveryLoop, TheSameIdTwiceInOneFetchIsDeliveredOnceAlsoOneAtATime) {
  Harness h(delivered);
  h.adapter->groups = false;
  h.source.push(sealed_record("m1", 0));
  h.source.push(sealed_record("m1", 1));
  h.source.push(sealed_record("m2", 2));
  h.start();
  ASSERT_TRUE(h.wait_for_event("commit m2 (in ledger)")) << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count("deliver m1"), 1u) << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count("receipt delivered m1"), 2u) << "the repeat is answered from the ledger";
}

TEST(DeliveryLoop, ARejectIsDeadLetteredAndReceiptedBeforeTheCommit) {
  Harness h([](const Message&) -> DeliveryOutcome { return Reject{Problem::make(ProblemKind::bad_request, "no")}; });
  int refusals = 0;
  h.sink.refuse = [&](const std::string& e) { return e == "dead letter m1" && refusals++ < 1; };
  h.source.push(sealed_record("m1", 0));
  h.start();
  ASSERT_TRUE(h.wait_for([&] { return h.events.index_of("commit m1 (not in ledger)") >= 0; }))
      << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count("dead letter m1 refused"), 1u);
  ASSERT_GE(h.events.index_of("dead letter m1"), 0);
  EXPECT_LT(h.events.index_of("dead letter m1"), h.events.index_of("receipt rejected m1"));
  EXPECT_LT(h.events.index_of("receipt rejected m1"), h.events.first_starting_with("commit"));
  EXPECT_EQ(h.events.count_starting_with("commit"), 1u);
}

TEST(DeliveryLoop, RetriesUntilDeliveredAndCommitsOnce) {
  std::atomic<int> calls{0};
  Harness h([&](const Message&) -> DeliveryOutcome {
    if (++calls < 3) return Retry{1ms, "target busy"};
    return Delivered{"written"};
  });
  h.source.push(sealed_record("m1", 0));
  h.start();
  ASSERT_TRUE(h.wait_for_event("commit m1 (in ledger)")) << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count("deliver m1"), 3u);
  EXPECT_EQ(h.events.count("receipt failed m1"), 2u);
  EXPECT_EQ(h.events.count("commit m1 (in ledger)"), 1u);
  EXPECT_EQ(h.adapter->seen().back().attempt, 3);
}

TEST(DeliveryLoop, StoppedDuringRetriesCommitsNothing) {
  Harness h([](const Message&) -> DeliveryOutcome { return Retry{10s, "target down"}; });
  h.source.push(sealed_record("m1", 0));
  h.start();
  ASSERT_TRUE(h.wait_for_event("deliver m1"));
  const auto asked = std::chrono::steady_clock::now();
  h.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 5s) << "the backoff must end on stop";
  for (const auto& e : h.events.all()) EXPECT_EQ(e.rfind("commit", 0), std::string::npos) << e;
}

// What a refused record leaves behind: a dead letter keyed by its origin, naming it
// in headers, and not a single receipt (its id may be another, real message's).
void expect_refused_without_receipt(const Harness& h, const std::string& origin_key) {
  EXPECT_EQ(h.events.count_starting_with("receipt"), 0u) << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count_starting_with("deliver"), 0u);
  const auto letters = h.sink.dead_letters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].key, origin_key);
  EXPECT_EQ(letters[0].get(header::dlq_topic), "xoev.standesamt");
  EXPECT_EQ(letters[0].get(header::dlq_partition), "0");
  EXPECT_EQ(letters[0].get(header::dlq_offset), origin_key.substr(origin_key.rfind('/') + 1));
  EXPECT_EQ(letters[0].get(header::dlq_unverified), "true");
  EXPECT_LT(h.events.first_starting_with("dead letter"), h.events.first_starting_with("commit"));
}

TEST(DeliveryLoop, AnUnsignedRecordIsDeadLetteredUnderItsOriginWithoutAReceipt) {
  Harness h(delivered);
  ConsumedRecord forged = sealed_record("m1", 7);
  std::erase_if(forged.env.headers, [](const auto& kv) { return kv.first == header::signature; });
  h.source.push(forged);
  h.start();
  ASSERT_TRUE(h.wait_for_event("commit m1 (not in ledger)")) << testing::PrintToString(h.events.all());
  expect_refused_without_receipt(h, "xoev.standesamt/0/7");
  EXPECT_EQ(h.loop->counters().unverified.load(), 1u);
}

TEST(DeliveryLoop, JunkClaimingAnIdGetsNoReceiptForIt) {
  Harness h(delivered);
  ConsumedRecord junk;
  junk.env.topic = "xoev.standesamt";
  junk.env.key = "m1";
  junk.env.set(header::message_id, "m1\nforged log line");
  junk.env.set(header::destination, "standesamt");
  junk.env.value = "junk";
  junk.partition = 0;
  junk.offset = 3;
  h.source.push(junk);
  h.start();
  ASSERT_TRUE(h.wait_for_event("commit m1 (not in ledger)")) << testing::PrintToString(h.events.all());
  expect_refused_without_receipt(h, "xoev.standesamt/0/3");
}

// Signature first, then the ledger: an altered copy of a delivered id is no "delivered before".
TEST(DeliveryLoop, ATamperedCopyOfADeliveredIdIsRefusedNotDeliveredBefore) {
  Harness h(delivered, {"m1"});
  ConsumedRecord tampered = sealed_record("m1", 4);
  tampered.env.value[tampered.env.value.size() / 2] ^= 1;
  h.source.push(tampered);
  h.start();
  ASSERT_TRUE(h.wait_for_event("commit m1 (in ledger)")) << testing::PrintToString(h.events.all());
  expect_refused_without_receipt(h, "xoev.standesamt/0/4");
  EXPECT_EQ(h.loop->counters().duplicates.load(), 0u);
}

// Validly signed, but for another destination (copied into this topic): refused here.
TEST(DeliveryLoop, ARecordSignedForAnotherDestinationIsRefused) {
  Harness h(delivered);
  h.source.push(sealed_record("m1", 5, "finanzamt"));
  h.start();
  ASSERT_TRUE(h.wait_for_event("commit m1 (not in ledger)")) << testing::PrintToString(h.events.all());
  expect_refused_without_receipt(h, "xoev.standesamt/0/5");
}

// Receipts carry the deliverer's own signature, which readers verify.
TEST(DeliveryLoop, ReceiptsAreSignedWithTheDeliverersKey) {
  Harness h(delivered);
  h.source.push(sealed_record("m1", 0));
  h.start();
  ASSERT_TRUE(h.wait_for_event("commit m1 (in ledger)"));
  EXPECT_TRUE(h.sink.last_receipt_verified_with(ring(deliverer_key().public_key())));
  EXPECT_FALSE(h.sink.last_receipt_verified_with(ring(gateway_key().public_key())));
}

// A dead letter is an accepted message: while the DLQ is too full to keep it (the mock
// cluster would drop older ones), the record stays uncommitted in its topic.
TEST(DeliveryLoop, ADeadLetterWaitsWhileTheDeadLetterTopicIsFull) {
  auto cluster = EmbeddedCluster::start(1, 1);
  ASSERT_TRUE(cluster);
  ASSERT_TRUE((*cluster)->create_topic(names::dlq_topic("standesamt"), 1));
  BacklogMonitor full((*cluster)->connection(), {{names::dlq_topic("standesamt"), "xoevgate.standesamt"}}, 64, 1h);
  ASSERT_TRUE(full.refresh_now());
  Harness h([](const Message&) -> DeliveryOutcome { return Reject{Problem::make(ProblemKind::bad_request, "no")}; }, {},
            &full);
  h.source.push(sealed_record("m1", 0));
  h.start();
  ASSERT_TRUE(h.wait_for([&] { return h.loop->counters().dead_letter_waits.load() >= 2; }))
      << testing::PrintToString(h.events.all());
  h.stop();
  EXPECT_EQ(h.events.count_starting_with("dead letter"), 0u) << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count_starting_with("receipt rejected"), 0u);
  EXPECT_EQ(h.events.count_starting_with("commit"), 0u) << "the record stays in its topic";
}

// The durable proof: after the loop is gone, a fresh ledger on the same file knows m1.
TEST(DeliveryLoop, TheLedgerEntrySurvivesTheLoop) {
  Harness h(delivered);
  h.source.push(sealed_record("m1", 0));
  h.start();
  ASSERT_TRUE(h.wait_for_event("commit m1 (in ledger)"));
  h.stop();
  h.loop.reset();  // closes the ledger (and its lock)
  auto reopened = DeliveredLedger::open(h.ledger_file, std::chrono::hours(24));
  ASSERT_TRUE(reopened.ok()) << reopened.problem().one_line();
  EXPECT_TRUE((*reopened)->contains("m1"));
}

// Chunk records of one large message, as the gateway's StreamedSubmission produces them.
std::vector<ConsumedRecord> sealed_chunks(const std::string& id, const std::vector<std::string>& pieces,
                                          int64_t first_offset, bool with_last = true) {
  std::string whole;
  for (const auto& p : pieces) whole += p;
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_Digest(whole.data(), whole.size(), digest, &len, EVP_sha256(), nullptr);
  std::vector<ConsumedRecord> out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    ConsumedRecord r = sealed_record(id, first_offset + static_cast<int64_t>(i));
    r.env.value = pieces[i];
    r.env.headers.erase(std::remove_if(r.env.headers.begin(), r.env.headers.end(),
                                       [](const auto& h) { return h.first == header::signature; }),
                        r.env.headers.end());
    crypto::ChunkClaims c;
    c.seq = id;
    c.index = i;
    c.last = with_last && i + 1 == pieces.size();
    if (c.last) {
      c.count = pieces.size();
      c.size = whole.size();
      c.sha256 = crypto::base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), len));
      c.message_id = id;
    }
    EXPECT_TRUE(crypto::seal_chunk(r.env, c, ring(destination_key().public_key()), gateway_key()).ok());
    out.push_back(std::move(r));
  }
  return out;
}

ConsumedRecord abort_record(const std::string& id, uint64_t index, int64_t offset) {
  ConsumedRecord r = sealed_record(id, offset);
  r.env.value.clear();
  r.env.headers.erase(std::remove_if(r.env.headers.begin(), r.env.headers.end(),
                                     [](const auto& h) { return h.first == header::signature; }),
                      r.env.headers.end());
  crypto::ChunkClaims c;
  c.seq = id;
  c.index = index;
  c.last = true;
  c.abort = "schema-invalid";
  EXPECT_TRUE(crypto::seal_chunk(r.env, c, ring(destination_key().public_key()), gateway_key()).ok());
  return r;
}

TEST(DeliveryLoop, AChunkedMessageIsDeliveredWholeOnceAfterEveryChunkWasCommitted) {
  Harness h(delivered, {}, nullptr, std::chrono::seconds(60));
  const std::vector<std::string> pieces = {"<akte>", std::string(1000, 'x'), "</akte>"};
  for (auto& r : sealed_chunks("big-1", pieces, 0)) h.source.push(std::move(r));
  h.start();
  ASSERT_TRUE(h.wait_for_event("receipt delivered big-1")) << testing::PrintToString(h.events.all());
  ASSERT_TRUE(h.wait_for([&] { return h.events.count_starting_with("commit big-1") == 3; }))
      << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count("deliver big-1"), 1u);
  // The two chunks before the last are committed before anything is delivered.
  EXPECT_LT(h.events.first_starting_with("commit big-1"), h.events.index_of("deliver big-1"));
  const auto seen = h.adapter->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].body, pieces[0] + pieces[1] + pieces[2]);  // read from the file for a non-streaming adapter
  EXPECT_TRUE(seen[0].body_file.empty());
  EXPECT_EQ(seen[0].route, "geburten");
  // Released right after the last commit, on the loop's thread.
  EXPECT_TRUE(h.wait_for([&] { return !std::filesystem::exists(h.dir.path / "standesamt.chunks" / "big-1.part"); }))
      << "released after delivery";
}

// Group commit of chunks: the chunks between the first and the last of one fetch are
// made durable together and committed with one offset; a record of another kind in
// between settles the ones before it first. At every commit the chunk log already
// records every chunk at or before the committed offset.
TEST(DeliveryLoop, TheMiddleChunksOfAFetchAreDurableTogetherBeforeTheirOneCommit) {
  Harness h(delivered, {}, nullptr, std::chrono::seconds(60));
  std::vector<std::string> pieces = {"<akte>"};
  for (int i = 0; i < 6; ++i) pieces.push_back(std::string(500, static_cast<char>('a' + i)));
  pieces.push_back("</akte>");
  // Offsets: chunks 0-2 at 0-2, a single message at 3, chunks 3-7 at 4-8.
  auto chunks = sealed_chunks("big-7", pieces, 0);
  for (size_t i = 3; i < chunks.size(); ++i) chunks[i].offset = static_cast<int64_t>(i) + 1;
  const auto log = h.dir.path / "standesamt.chunks" / "big-7.log";
  std::mutex mu;
  std::vector<std::pair<std::string, int64_t>> commits;  // key, offset
  std::vector<std::string> early;                       // commits before their chunks were recorded
  h.source.on_commit = [&](const ConsumedRecord& r) {
    const std::string text = std::filesystem::exists(log) ? test::read_file(log) : "";
    size_t lines = 0;
    for (size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 1))
      if (at + 2 < text.size() && (text[at + 1] == 'C' || text[at + 1] == 'L') && text[at + 2] == ' ') ++lines;
    const auto chunks_at_or_before = static_cast<size_t>(r.offset < 3 ? r.offset + 1 : r.offset);
    std::lock_guard lock(mu);
    commits.emplace_back(r.env.key, r.offset);
    if (lines < chunks_at_or_before && r.offset < 8)  // the last one is released right after its commit
      early.push_back(r.env.key + "@" + std::to_string(r.offset) + " with " + std::to_string(lines) + " recorded");
  };
  for (size_t i = 0; i < 3; ++i) h.source.push(std::move(chunks[i]));
  h.source.push(sealed_record("m1", 3));
  for (size_t i = 3; i < chunks.size(); ++i) h.source.push(std::move(chunks[i]));
  h.start();
  ASSERT_TRUE(h.wait_for_event("receipt delivered big-7")) << testing::PrintToString(h.events.all());
  ASSERT_TRUE(h.wait_for([&] {
    std::lock_guard lock(mu);
    return !commits.empty() && commits.back().second == 8;
  })) << testing::PrintToString(h.events.all());
  std::string body;
  for (const auto& p : pieces) body += p;
  const auto seen = h.adapter->seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].body, body);
  std::lock_guard lock(mu);
  EXPECT_TRUE(early.empty()) << testing::PrintToString(early);
  // The first chunk alone (it starts the sequence), 1-2 before m1, 3-6 once, the last.
  const std::vector<std::pair<std::string, int64_t>> expected = {
      {"big-7", 0}, {"big-7", 2}, {"m1", 3}, {"big-7", 7}, {"big-7", 8}};
  EXPECT_EQ(commits, expected) << testing::PrintToString(h.events.all());
}

TEST(DeliveryLoop, AGapRefusesTheSequenceOnceAndDeliversNothing) {
  Harness h(delivered, {}, nullptr, std::chrono::seconds(60));
  auto chunks = sealed_chunks("big-2", {"<a>", "bb", "cc", "</a>"}, 0);
  h.source.push(std::move(chunks[0]));
  h.source.push(std::move(chunks[2]));  // chunk 1 is missing
  h.source.push(std::move(chunks[3]));
  h.start();
  ASSERT_TRUE(h.wait_for([&] { return h.events.count_starting_with("commit big-2") == 3; }))
      << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count("deliver big-2"), 0u);
  EXPECT_EQ(h.events.count("dead letter big-2"), 1u) << "the rest of a refused sequence is dropped quietly";
  EXPECT_EQ(h.events.count("receipt rejected big-2"), 1u);
  const auto letters = h.sink.dead_letters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_NE(letters[0].get(header::dlq_reason).find("gap"), std::string::npos) << letters[0].get(header::dlq_reason);
}

// The audit line names the SHA-256 of the plaintext delivered (for a chunked message the
// whole one) and, for a refusal, of the record that was refused.
TEST(DeliveryLoop, TheAuditLineHashesThePlaintextDeliveredOrTheRecordRefused) {
  Harness h(delivered, {}, nullptr, std::chrono::seconds(60));
  std::mutex mu;
  std::vector<audit::AuditEvent> decisions;
  h.loop->observe_decisions([&](const audit::AuditEvent& e) {
    std::lock_guard lock(mu);
    decisions.push_back(e);
  });
  h.source.push(sealed_record("single-1", 0));
  for (auto& r : sealed_chunks("whole-1", {"<a>", "bb", "</a>"}, 1)) h.source.push(std::move(r));
  auto gap = sealed_chunks("gap-1", {"<a>", "bb", "</a>"}, 4);
  const std::string refused_value = gap[2].env.value;
  h.source.push(std::move(gap[0]));
  h.source.push(std::move(gap[2]));  // chunk 1 is missing
  h.start();
  ASSERT_TRUE(h.wait_for([&] {
    std::lock_guard lock(mu);
    return decisions.size() == 3;
  })) << testing::PrintToString(h.events.all());
  std::lock_guard lock(mu);
  std::map<std::string, audit::AuditEvent> by_id;
  for (const auto& d : decisions) by_id[d.message_id] = d;
  EXPECT_EQ(by_id["single-1"].payload_hashed, "plaintext");
  EXPECT_EQ(by_id["single-1"].payload_sha256, audit::sha256_hex("<nachricht id=\"single-1\"/>"));
  EXPECT_EQ(by_id["whole-1"].payload_hashed, "plaintext");
  EXPECT_EQ(by_id["whole-1"].payload_sha256, audit::sha256_hex("<a>bb</a>"));
  EXPECT_EQ(by_id["gap-1"].event, "rejected");
  EXPECT_EQ(by_id["gap-1"].payload_hashed, "record-value");
  EXPECT_EQ(by_id["gap-1"].payload_sha256, audit::sha256_hex(refused_value));
}

TEST(DeliveryLoop, AnAbortRecordDropsTheSequenceWithoutAReceipt) {
  Harness h(delivered, {}, nullptr, std::chrono::seconds(60));
  auto chunks = sealed_chunks("big-3", {"<a>", "bb", "</a>"}, 0, /*with_last=*/false);
  h.source.push(std::move(chunks[0]));
  h.source.push(std::move(chunks[1]));
  h.source.push(abort_record("big-3", 2, 2));
  h.start();
  ASSERT_TRUE(h.wait_for([&] { return h.events.count_starting_with("commit big-3") == 3; }))
      << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count("deliver big-3"), 0u);
  EXPECT_EQ(h.events.count_starting_with("receipt"), 0u);
  EXPECT_EQ(h.events.count_starting_with("dead letter"), 0u);
  EXPECT_FALSE(std::filesystem::exists(h.dir.path / "standesamt.chunks" / "big-3.part"));
}

TEST(DeliveryLoop, TheLastChunkReadAgainAfterAStopDeliversTheHeldMessage) {
  test::TempDir chunk_dir("xoev-chunks-");
  const std::vector<std::string> pieces = {"<a>", "bb", "</a>"};
  {
    // The target is down: the message is complete in the assembler but not delivered.
    Harness h([](const Message&) -> DeliveryOutcome { return Retry{std::chrono::milliseconds(10000), "target down"}; }, {}, nullptr,
              std::chrono::seconds(60), chunk_dir.path);
    for (auto& r : sealed_chunks("big-4", pieces, 0)) h.source.push(std::move(r));
    h.start();
    ASSERT_TRUE(h.wait_for([&] { return h.events.count("deliver big-4") >= 1; })) << testing::PrintToString(h.events.all());
    h.stop();
    EXPECT_EQ(h.events.count_starting_with("commit big-4"), 2u) << "the last chunk stays uncommitted";
  }
  Harness again(delivered, {}, nullptr, std::chrono::seconds(60), chunk_dir.path);
  again.source.push(std::move(sealed_chunks("big-4", pieces, 0)[2]));  // read again from the last commit
  again.start();
  ASSERT_TRUE(again.wait_for_event("receipt delivered big-4")) << testing::PrintToString(again.events.all());
  const auto seen = again.adapter->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].body, "<a>bb</a>");
}

// A deliverer restarted mid-sequence may wait longer than chunk_timeout for its group to
// hand it the partitions, and then read a backlog before the rest of the sequence: the
// held chunks are kept meanwhile, and the message is delivered once the rest comes.
TEST(DeliveryLoop, AHeldSequenceIsKeptWhileTheDelivererWaitsForItsPartitionsOrReadsABacklog) {
  Harness h(delivered, {}, nullptr, std::chrono::seconds(1));
  auto chunks = sealed_chunks("big-6", {"<a>", "bb", "</a>"}, 0);
  h.source.assigned = false;  // a consumer without partitions counts as caught up (Consumer::caught_up)
  h.source.push(std::move(chunks[0]));
  h.source.push(std::move(chunks[1]));
  h.start();
  ASSERT_TRUE(h.wait_for([&] { return h.events.count_starting_with("commit big-6") == 2; }))
      << testing::PrintToString(h.events.all());
  std::this_thread::sleep_for(5500ms);  // one expiry check (every 5 s) without partitions
  h.source.at_end = false;
  h.source.assigned = true;
  std::this_thread::sleep_for(5500ms);  // one more with partitions, not read to their end
  EXPECT_EQ(h.events.index_of("receipt failed big-6"), -1) << testing::PrintToString(h.events.all());
  h.source.at_end = true;
  h.source.push(std::move(chunks[2]));
  ASSERT_TRUE(h.wait_for_event("receipt delivered big-6")) << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.adapter->seen().at(0).body, "<a>bb</a>");
}

TEST(DeliveryLoop, AnIncompleteSequenceIsDiscardedAfterItsTimeoutWithAFailedReceipt) {
  Harness h(delivered, {}, nullptr, std::chrono::seconds(1));
  auto chunks = sealed_chunks("big-5", {"<a>", "bb", "</a>"}, 0);
  h.source.push(std::move(chunks[0]));
  h.start();
  ASSERT_TRUE(h.wait_for([&] { return h.events.index_of("receipt failed big-5") >= 0; }, 15s))
      << testing::PrintToString(h.events.all());
  EXPECT_EQ(h.events.count("deliver big-5"), 0u);
  EXPECT_FALSE(std::filesystem::exists(h.dir.path / "standesamt.chunks" / "big-5.part"));
}

}  // namespace
}  // namespace xoev
