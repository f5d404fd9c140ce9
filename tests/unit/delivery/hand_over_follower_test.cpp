// The follow-up of messages handed on to another gateway: the forwarded ledger keeps
// them across a restart, and the follower publishes the hop's final status (and only
// a final one) as a receipt that carries the history, then forgets the message.
#include "gateway/delivery/hand_over_follower.h"

#include <gtest/gtest.h>

#include <mutex>

#include "gateway/crypto/jwk.h"
#include "tests/support/files.h"

namespace xoev {
namespace {

using namespace std::chrono_literals;

class CollectingSink : public RecordSink {
 public:
  void produce(Envelope env, AckCallback cb) override {
    {
      std::lock_guard lock(mu_);
      records_.push_back(env);
    }
    cb(fail_ ? Result<BrokerAck>(Problem::make(ProblemKind::broker_unavailable, "down")) : Result<BrokerAck>(BrokerAck{0, 1}));
  }
  std::vector<Receipt> receipts() const {
    std::lock_guard lock(mu_);
    std::vector<Receipt> out;
    for (const auto& e : records_) out.push_back(Receipt::from_json(e.value).value());
    return out;
  }
  bool fail_ = false;

 private:
  mutable std::mutex mu_;
  std::vector<Envelope> records_;
};

// The next gateway: answers what the test sets.
class FakeHop : public HandOver {
 public:
  Result<HopStatus> ask_status(const std::string& id) override {
    asked.push_back(id);
    if (down) return Problem::make(ProblemKind::io_error, "peer down");
    return answer;
  }
  FollowUpTiming follow_up_timing() const override { return {100ms, 400ms, std::chrono::hours(1)}; }
  HopStatus answer;
  bool down = false;
  std::vector<std::string> asked;
};

crypto::Jwk deliverer_key() {
  static const crypto::Jwk k = crypto::Jwk::generate(crypto::Jwk::Type::ec_p256, "deliverer-1", "ES256").value();
  return k;
}

ForwardedEntry entry(const std::string& id) {
  ForwardedEntry e;
  e.message_id = id;
  e.handed_over_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  e.history = {{ReceiptStatus::accepted, "2026-01-01T00:00:00Z"}, {ReceiptStatus::forwarded, "2026-01-01T00:00:01Z"}};
  e.route = "land-b";
  e.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  return e;
}

TEST(ForwardedLedger, OutstandingEntriesSurviveAReopen) {
  test::TempDir dir;
  const auto file = dir.path / "state-b.forwarded";
  {
    auto l = ForwardedLedger::open(file).value();
    ASSERT_TRUE(l->add(entry("m-1")).ok());
    ASSERT_TRUE(l->add(entry("m-2")).ok());
    ASSERT_TRUE(l->remove("m-1").ok());
  }
  test::write_file(file, test::read_file(file) + "{\"op\":\"+\",\"id\":\"m-3\"");  // torn last line
  auto l = ForwardedLedger::open(file).value();
  const auto left = l->outstanding();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].message_id, "m-2");
  EXPECT_EQ(left[0].history, entry("m-2").history);
  EXPECT_EQ(left[0].route, "land-b");
  EXPECT_EQ(left[0].traceparent, entry("m-2").traceparent);
}

TEST(HandOverFollower, PublishesOnlyTheFinalStatusWithHistoryThenForgets) {
  test::TempDir dir;
  auto ledger = ForwardedLedger::open(dir.path / "state-b.forwarded").value();
  ASSERT_TRUE(ledger->add(entry("m-1")).ok());
  CollectingSink sink;
  ReceiptPublisher receipts(sink, deliverer_key());
  FakeHop hop;
  HandOverFollower follower("state-b", hop, *ledger, receipts);
  auto t = std::chrono::steady_clock::now();

  EXPECT_EQ(follower.follow_up_due(t), 0u);  // not due before `first`
  EXPECT_TRUE(hop.asked.empty());
  hop.answer = {std::nullopt, "at peer gateway b:443: failed"};
  EXPECT_EQ(follower.follow_up_due(t + 150ms), 0u);
  EXPECT_EQ(hop.asked.size(), 1u);
  EXPECT_TRUE(sink.receipts().empty()) << "an intermediate status at the hop is no receipt here";
  EXPECT_EQ(follower.follow_up_due(t + 200ms), 0u);  // backed off: next at +250ms
  EXPECT_EQ(hop.asked.size(), 1u);
  hop.down = true;
  EXPECT_EQ(follower.follow_up_due(t + 260ms), 0u);
  EXPECT_TRUE(ledger->contains("m-1"));

  hop.down = false;
  hop.answer = {ReceiptStatus::delivered, "at peer gateway b:443 (destination 'inbox-b'): delivered"};
  EXPECT_EQ(follower.follow_up_due(t + 10s), 1u);
  const auto published = sink.receipts();
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].message_id, "m-1");
  EXPECT_EQ(published[0].destination, "state-b");
  EXPECT_TRUE(published[0].status == ReceiptStatus::delivered);
  EXPECT_EQ(published[0].detail, hop.answer.detail);
  EXPECT_EQ(published[0].history, entry("m-1").history);
  EXPECT_EQ(published[0].traceparent, entry("m-1").traceparent);
  EXPECT_FALSE(ledger->contains("m-1"));
  EXPECT_EQ(follower.follow_up_due(t + 20s), 0u);
  EXPECT_EQ(hop.asked.size(), 3u);
}

TEST(HandOverFollower, KeepsTheEntryWhenTheReceiptIsNotStored) {
  test::TempDir dir;
  auto ledger = ForwardedLedger::open(dir.path / "state-b.forwarded").value();
  ASSERT_TRUE(ledger->add(entry("m-1")).ok());
  CollectingSink sink;
  sink.fail_ = true;
  ReceiptPublisher receipts(sink, deliverer_key());
  FakeHop hop;
  hop.answer = {ReceiptStatus::rejected, "at peer gateway b:443: rejected"};
  HandOverFollower follower("state-b", hop, *ledger, receipts);
  EXPECT_EQ(follower.follow_up_due(std::chrono::steady_clock::now() + 1s), 0u);
  EXPECT_TRUE(ledger->contains("m-1"));
}

}  // namespace
}  // namespace xoev
