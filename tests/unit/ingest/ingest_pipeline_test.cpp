// The accept path against a sink whose acknowledgements the test releases: a resent
// message id is produced once, however the resend and the acknowledgement interleave.
#include "gateway/ingest/ingest_pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "gateway/kafka/topic_names.h"
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

}  // namespace
}  // namespace xoev
