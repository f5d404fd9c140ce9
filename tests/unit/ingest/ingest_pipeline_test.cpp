// The accept path against a sink whose acknowledgements the test releases: a resent
// message id is produced once, however the resend and the acknowledgement interleave.
#include "gateway/ingest/ingest_pipeline.h"

#include <gtest/gtest.h>

#include <barrier>
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
  void produce(Envelope env, DeliveryCallback cb) override {
    std::unique_lock lock(mu_);
    if (env.topic == names::kReceiptsTopic) {
      receipts_.push_back(std::move(env));
      lock.unlock();
      return cb(Delivery{0, 0});
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
  void ack(size_t i) { take(i)(Delivery{1, static_cast<int64_t>(i)}); }
  void fail(size_t i) { take(i)(Problem::make(ProblemKind::broker_unavailable, "test: no ack")); }

 private:
  DeliveryCallback take(size_t i) {
    std::lock_guard lock(mu_);
    return std::move(held_.at(i).second);
  }
  mutable std::mutex mu_;
  std::vector<std::pair<Envelope, DeliveryCallback>> held_;
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
  ReceiptPublisher receipts(sink);
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
  ReceiptPublisher receipts(sink);
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
  ReceiptPublisher receipts(sink);
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

// The acknowledgement (status update, end of in-flight) and a resend on two threads,
// released together, many times: the resend must never be produced as a new message.
TEST_F(IngestPipelineTest, AResendRacingTheAcknowledgementIsNeverProducedTwice) {
  int produced_twice = 0;
  for (int round = 0; round < 300; ++round) {
    HeldSink sink;
    StatusStore status;
    ReceiptPublisher receipts(sink);
    IngestPipeline pipeline(snapshots, sink, status, receipts, nullptr);
    Answers answers;
    pipeline.submit(message, "", answers.collect());
    std::barrier start(2);
    std::jthread acknowledger([&] {
      start.arrive_and_wait();
      // Lands the acknowledgement at a different point of the resend's path each round.
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(round % 60);
      while (std::chrono::steady_clock::now() < until) {
      }
      sink.ack(0);
    });
    start.arrive_and_wait();
    pipeline.submit(message, "", answers.collect());
    acknowledger.join();
    if (sink.produced() != 1u) ++produced_twice;
  }
  EXPECT_EQ(produced_twice, 0);
}

}  // namespace
}  // namespace xoev
