// The accept path against a sink whose acknowledgements the test releases: a resent
// message id is produced once, however the resend and the acknowledgement interleave.
#include "gateway/ingest/ingest_pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "gateway/core/worker_pool.h"
#include "gateway/ingest/backlog_waiter.h"
#include "gateway/kafka/topic_names.h"
#include "tests/unit/ingest/full_topic.h"
#include "tests/unit/ingest/ingest_test_support.h"

namespace xoev {
namespace {

using namespace std::chrono_literals;

// Receipts are acknowledged at once; message records wait for ack()/fail().
class HeldSink : public RecordSink {
 public:
  void produce(Envelope env, AckCallback cb) override {
    std::unique_lock lock(mu_);
    if (env.topic == names::kReceiptsTopic) {
      receipts_.push_back(std::move(env));
      lock.unlock();
      return cb(BrokerAck{0, 0});
    }
    held_.push_back({std::move(env), std::move(cb)});
  }
  size_t produced() const {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  size_t receipts() const {
    std::lock_guard lock(mu_);
    return receipts_.size();
  }
  Receipt receipt(size_t i) const {
    std::lock_guard lock(mu_);
    auto r = Receipt::from_json(receipts_.at(i).value);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : Receipt{};
  }
  void ack(size_t i) { take(i)(BrokerAck{1, static_cast<int64_t>(i)}); }
  void fail(size_t i) { take(i)(Problem::make(ProblemKind::broker_unavailable, "test: no ack")); }

 private:
  AckCallback take(size_t i) {
    std::lock_guard lock(mu_);
    return std::move(held_.at(i).second);
  }
  mutable std::mutex mu_;
  std::vector<std::pair<Envelope, AckCallback>> held_;
  std::vector<Envelope> receipts_;
};

class Answers {
 public:
  AcceptCallback collect() {
    return [this](Result<Acceptance> r) {
      std::lock_guard lock(mu_);
      all_.push_back(r ? r->http_status : 503);
    };
  }
  std::vector<int> all() const {
    std::lock_guard lock(mu_);
    return all_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<int> all_;
};

struct IngestPipelineTest : testing::Test {
  test::TempDir dir{"xoev-ingest-"};
  SnapshotHolder snapshots{test::one_destination_snapshot(dir.path)};
  const std::string message = test::sample_message();
  void SetUp() override { ASSERT_NE(snapshots.get(), nullptr); }
};

TEST_F(IngestPipelineTest, AResendWhileTheFirstIsInFlightIsProducedOnce) {
  HeldSink sink;
  StatusStore status;
  ReceiptPublisher receipts(sink, test::gateway_key());
  IngestPipeline pipeline(snapshots, sink, status, receipts, nullptr);
  Answers answers;
  pipeline.submit(message, "", answers.collect());
  pipeline.submit(message, "", answers.collect());
  EXPECT_EQ(sink.produced(), 1u);
  EXPECT_TRUE(answers.all().empty()) << "nobody is answered before the broker acknowledged";
  sink.ack(0);
  EXPECT_EQ(answers.all(), (std::vector<int>{202, 200}));
  EXPECT_EQ(sink.receipts(), 1u);
  ASSERT_TRUE(status.get(test::kSampleId).has_value());
  EXPECT_EQ(pipeline.counters().duplicates.load(), 1u);
}

TEST_F(IngestPipelineTest, AResendAfterAcceptanceIsAnsweredFromTheStatus) {
  HeldSink sink;
  StatusStore status;
  ReceiptPublisher receipts(sink, test::gateway_key());
  IngestPipeline pipeline(snapshots, sink, status, receipts, nullptr);
  Answers answers;
  pipeline.submit(message, "", answers.collect());
  sink.ack(0);
  pipeline.submit(message, "", answers.collect());
  EXPECT_EQ(sink.produced(), 1u);
  EXPECT_EQ(answers.all(), (std::vector<int>{202, 200}));
}

TEST_F(IngestPipelineTest, WithoutAnAcknowledgementNothingIsAcceptedAndAResendMayTryAgain) {
  HeldSink sink;
  StatusStore status;
  ReceiptPublisher receipts(sink, test::gateway_key());
  IngestPipeline pipeline(snapshots, sink, status, receipts, nullptr);
  Answers answers;
  pipeline.submit(message, "", answers.collect());
  pipeline.submit(message, "", answers.collect());
  sink.fail(0);
  EXPECT_EQ(answers.all(), (std::vector<int>{503, 503}));
  EXPECT_FALSE(status.get(test::kSampleId).has_value());
  EXPECT_EQ(sink.receipts(), 0u);
  pipeline.submit(message, "", answers.collect());
  EXPECT_EQ(sink.produced(), 2u);
}

// After arm(), the next lookup that misses the status waits in get() until release():
// a resend that has just checked the status, overtaken by the acknowledgement.
class PausingStatusStore : public StatusStore {
 public:
  void arm() {
    std::lock_guard lock(mu_);
    armed_ = true;
  }
  void wait_until_paused() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return paused_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  std::optional<MessageStatus> get(const std::string& id) const override {
    auto found = StatusStore::get(id);
    std::unique_lock lock(mu_);
    if (!found && armed_) {
      armed_ = false;
      paused_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return released_; });
    }
    return found;
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable bool armed_ = false, paused_ = false, released_ = false;
};

TEST_F(IngestPipelineTest, AnAcknowledgementOvertakingAResendsStatusCheckDoesNotLetItProduceAgain) {
  HeldSink sink;
  PausingStatusStore status;
  ReceiptPublisher receipts(sink, test::gateway_key());
  IngestPipeline pipeline(snapshots, sink, status, receipts, nullptr);
  Answers answers;
  pipeline.submit(message, "", answers.collect());
  ASSERT_EQ(sink.produced(), 1u);

  status.arm();
  std::jthread resend([&] { pipeline.submit(message, "", answers.collect()); });
  status.wait_until_paused();  // the resend found no status yet
  std::jthread acknowledgement([&] { sink.ack(0); });
  std::this_thread::sleep_for(100ms);  // time for the acknowledgement to overtake, if it can
  status.release();
  resend.join();
  acknowledgement.join();
  EXPECT_EQ(sink.produced(), 1u) << "the resend was produced as a new message";
  auto got = answers.all();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int>{200, 202}));
}

// What a deliverer publishes once it delivered the sample.
Receipt delivered_receipt(const std::string& accepted_at) {
  Receipt d;
  d.message_id = test::kSampleId;
  d.destination = "standesamt";
  d.status = ReceiptStatus::delivered;
  d.at = "2999-01-01T00:00:02Z";
  d.history = {{ReceiptStatus::accepted, accepted_at}, {ReceiptStatus::forwarded, "2999-01-01T00:00:01Z"}};
  return d;
}
Receipt forwarded_receipt(const std::string& accepted_at) {
  Receipt f = delivered_receipt(accepted_at);
  f.status = ReceiptStatus::forwarded;
  f.at = "2999-01-01T00:00:01Z";
  f.history.pop_back();
  return f;
}

// xoev.receipts may be compacted: the newest receipt of an id must be its whole status,
// even when the deliverer's receipts reached the topic before the gateway's. The tests
// play the tracker: read_back() applies receipts in the topic's order.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// Room for a message: its sealed estimate plus the per-record overhead admits() adds.
size_t room_for(const std::string& message) {
  return BacklogMonitor::sealed_size_estimate(message.size()) + BacklogMonitor::record_overhead_bytes;
}

// The destination's topic (xoev.standesamt) holds two undelivered records, and its
// budget leaves `room` bytes beside them; a waiter and one accept worker as in serve.
struct BacklogTest : IngestPipelineTest {
  HeldSink sink;
  StatusStore status;
  ReceiptPublisher receipts{sink, test::gateway_key()};
  Answers answers;
  std::unique_ptr<test::FullTopic> backlog;
  std::unique_ptr<BacklogWaiter> waiter;
  WorkerPool workers{"test-accept", 1, 16};
  void fill(size_t room) {
    backlog = std::make_unique<test::FullTopic>(2, "xoev.standesamt", room);
    ASSERT_TRUE(backlog->monitor && backlog->deliverer);
    waiter = std::make_unique<BacklogWaiter>(*backlog->monitor);
  }
  IngestPipeline::BacklogWait waiting(std::chrono::milliseconds limit) { return {waiter.get(), &workers, limit}; }
};

TEST_F(BacklogTest, AMessageThatDoesNotFitWaitsForTheDelivererInsteadOfBeingRefused) {
  fill(room_for(message) - 1);
  IngestPipeline pipeline(snapshots, sink, status, receipts, backlog->monitor.get(), waiting(30s));
  pipeline.submit(message, "", answers.collect());
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sink.produced(), 0u) << "nothing is produced while the backlog has no room";
  EXPECT_TRUE(answers.all().empty()) << "and the sender waits, unanswered";
  EXPECT_EQ(waiter->waiting(), 1u);
  backlog->deliver(1);
  ASSERT_TRUE(eventually([&] { return sink.produced() == 1; })) << "produced once the deliverer made room";
  sink.ack(0);
  EXPECT_EQ(answers.all(), (std::vector<int>{202}));
  EXPECT_EQ(pipeline.counters().backlog_refusals.load(), 0u);
}

TEST_F(BacklogTest, AMessageStillWithoutRoomAfterBacklogWaitIsRefusedAndNeverProduced) {
  fill(room_for(message) - 1);
  IngestPipeline pipeline(snapshots, sink, status, receipts, backlog->monitor.get(), waiting(400ms));
  const auto started = std::chrono::steady_clock::now();
  pipeline.submit(message, "", answers.collect());
  ASSERT_TRUE(eventually([&] { return !answers.all().empty(); }));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 400ms) << "it waited backlog_wait first";
  EXPECT_EQ(answers.all(), (std::vector<int>{503}));
  EXPECT_EQ(sink.produced(), 0u);
  EXPECT_EQ(pipeline.counters().backlog_refusals.load(), 1u);
  EXPECT_FALSE(status.get(test::kSampleId).has_value());
}

// Room for one message; two arrive before either is acknowledged. The first one's
// reservation counts until its acknowledgement, so the second does not also fit:
// without a wait it is refused at once, and nothing overshoots the budget.
TEST_F(BacklogTest, AnAdmittedMessageHoldsItsRoomUntilAcknowledged) {
  fill(room_for(message) + 100);
  IngestPipeline pipeline(snapshots, sink, status, receipts, backlog->monitor.get());
  pipeline.submit(message, "", answers.collect());
  std::string other = message;
  other.replace(other.find(test::kSampleId), std::string(test::kSampleId).size(), "7d0d5cba-1a2b-4c3d-8e9f-0a1b2c3d4e5f");
  pipeline.submit(other, "", answers.collect());
  EXPECT_EQ(sink.produced(), 1u) << "only the first fits";
  EXPECT_EQ(answers.all(), (std::vector<int>{503}));
  sink.ack(0);
  EXPECT_EQ(answers.all(), (std::vector<int>{503, 202}));
}

struct RestatingTest : IngestPipelineTest {
  HeldSink sink;
  StatusStore status;
  ReceiptPublisher receipts{sink, test::gateway_key()};
  IngestPipeline pipeline{snapshots, sink, status, receipts, nullptr};
  Answers answers;

  Receipt accept() {
    submit();
    return acknowledge();
  }
  void submit() { pipeline.submit(message, "", answers.collect()); }
  Receipt acknowledge() {
    sink.ack(0);
    EXPECT_EQ(sink.receipts(), 1u);
    return sink.receipt(0);
  }
  void read_back(std::initializer_list<Receipt> in_topic_order) {
    for (const Receipt& r : in_topic_order) {
      status.apply(r);
      pipeline.receipt_applied(r);
    }
  }
};

TEST_F(RestatingTest, AnAcceptedReceiptOvertakenByTheDeliverersIsRestatedOnceTheTrackerSeesIt) {
  const Receipt accepted = accept();
  EXPECT_EQ(accepted.status, ReceiptStatus::accepted);
  read_back({delivered_receipt(accepted.at), accepted});
  ASSERT_EQ(sink.receipts(), 2u) << "one restatement";
  const Receipt newest = sink.receipt(1);
  EXPECT_EQ(newest.status, ReceiptStatus::delivered);
  EXPECT_EQ(newest.at, "2999-01-01T00:00:02Z");
  ASSERT_EQ(newest.history.size(), 2u);
  EXPECT_EQ(newest.history[0].first, ReceiptStatus::accepted);
  EXPECT_EQ(newest.history[1].first, ReceiptStatus::forwarded);
  EXPECT_EQ(newest.message_type, accepted.message_type) << "the accepted facts stay";
  // Read back again (or by the tracker of another instance): nothing more.
  read_back({accepted, newest});
  EXPECT_EQ(sink.receipts(), 2u);
}

TEST_F(RestatingTest, ARestatementOvertakenInItsTurnIsRestatedAgain) {
  const Receipt accepted = accept();
  read_back({forwarded_receipt(accepted.at), accepted});
  ASSERT_EQ(sink.receipts(), 2u);
  const Receipt first = sink.receipt(1);
  ASSERT_EQ(first.status, ReceiptStatus::forwarded);
  read_back({delivered_receipt(accepted.at), first});
  ASSERT_EQ(sink.receipts(), 3u);
  const Receipt second = sink.receipt(2);
  EXPECT_EQ(second.status, ReceiptStatus::delivered);
  EXPECT_EQ(second.message_type, accepted.message_type);
  read_back({second});
  EXPECT_EQ(sink.receipts(), 3u) << "read back as the whole status: done";
}

TEST_F(RestatingTest, AnAcceptedReceiptInTheUsualOrderIsNotRestated) {
  const Receipt accepted = accept();
  read_back({accepted, delivered_receipt(accepted.at)});
  EXPECT_EQ(sink.receipts(), 1u);
}

TEST_F(RestatingTest, AnAcknowledgementAfterTheDeliverersReceiptPublishesAcceptedThenTheWholeStatus) {
  submit();
  read_back({delivered_receipt("2000-01-01T00:00:00Z")});  // before the broker's acknowledgement reached us
  const Receipt accepted = acknowledge();
  EXPECT_EQ(answers.all(), (std::vector<int>{202}));
  EXPECT_EQ(accepted.status, ReceiptStatus::accepted) << "a sender's callback hears of the acceptance";
  read_back({accepted});
  ASSERT_EQ(sink.receipts(), 2u);
  EXPECT_EQ(sink.receipt(1).status, ReceiptStatus::delivered);
}

}  // namespace
}  // namespace xoev
