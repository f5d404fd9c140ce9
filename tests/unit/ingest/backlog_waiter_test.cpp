// BacklogWaiter against the real embedded cluster: a chunk waits while the deliverer
// drains the topic, however slowly, and is given up only when it stalls.
#include "gateway/ingest/backlog_waiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "gateway/kafka/embedded_cluster.h"
#include "tests/unit/kafka/kafka_test_support.h"

namespace xoev {
namespace {

using namespace std::chrono_literals;

constexpr size_t kRecordBytes = 10'000;
constexpr size_t kRecord = kRecordBytes + BacklogMonitor::record_overhead_bytes;

// One partition holding `records` undelivered records, a budget of exactly that many,
// and a deliverer that has joined its group (one record more was delivered for that).
struct FullTopic {
  std::unique_ptr<EmbeddedCluster> cluster;
  std::string topic = test::unique_name("waiter");
  std::string group = test::unique_name("deliverer");
  std::unique_ptr<Producer> producer;
  std::unique_ptr<BacklogMonitor> monitor;
  std::unique_ptr<Consumer> deliverer;

  explicit FullTopic(int records) {
    auto c = EmbeddedCluster::start(1, 1);
    EXPECT_TRUE(c);
    if (!c) return;
    cluster = std::move(c).value();
    EXPECT_TRUE(cluster->create_topic(topic, 1));
    auto p = Producer::create(cluster->connection(), "test", 20s);
    EXPECT_TRUE(p);
    producer = std::move(p).value();
    monitor = std::make_unique<BacklogMonitor>(cluster->connection(), std::vector<BacklogMonitor::Watched>{{topic, group}},
                                               records * kRecord, 1h);
    EXPECT_TRUE(monitor->refresh_now());
    for (int i = 0; i <= records; ++i) {
      auto d = test::produce_sync(*producer, test::envelope(topic, "k", std::string(kRecordBytes, 'x')));
      EXPECT_TRUE(d);
      if (d) monitor->record_produced(topic, d->partition, d->offset, kRecordBytes);
    }
    auto consumer = Consumer::create(cluster->connection(), group, {topic}, true);
    EXPECT_TRUE(consumer);
    deliverer = std::move(consumer).value();
    deliver(1);
    EXPECT_TRUE(monitor->refresh_now());
    EXPECT_EQ(monitor->undelivered_bytes(topic), records * kRecord);
  }
  // The deliverer handles and commits `n` more records.
  void deliver(size_t n) { EXPECT_EQ(test::consume(*deliverer, n, 30s, true).size(), n); }
};

struct Answer {
  std::promise<bool> promise;
  std::future<bool> future = promise.get_future();
  std::function<void(bool)> then() {
    return [this](bool admitted) { promise.set_value(admitted); };
  }
};

TEST(BacklogWaiter, AChunkIsAdmittedOnceTheDelivererMadeRoom) {
  FullTopic full(4);
  ASSERT_TRUE(full.deliverer);
  BacklogWaiter waiter(*full.monitor);
  Answer answer;
  waiter.when_admitted(full.topic, kRecordBytes, 30s, answer.then());
  EXPECT_EQ(answer.future.wait_for(300ms), std::future_status::timeout) << "no room yet";
  EXPECT_EQ(waiter.waiting(), 1u);
  full.deliver(1);
  ASSERT_EQ(answer.future.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(answer.future.get());
  EXPECT_EQ(waiter.waiting(), 0u);
}

// Room for the chunk needs four records delivered; the deliverer commits one every
// 500 ms, so the wait (2 s and more) outlasts the stall limit of 1.5 s: it is waited for
// because it moves.
TEST(BacklogWaiter, ASlowDelivererIsWaitedForAsLongAsItDrainsTheTopic) {
  FullTopic full(8);
  ASSERT_TRUE(full.deliverer);
  BacklogWaiter waiter(*full.monitor);
  Answer answer;
  const auto started = std::chrono::steady_clock::now();
  waiter.when_admitted(full.topic, 4 * kRecordBytes, 1500ms, answer.then());
  for (int i = 0; i < 4 && answer.future.wait_for(500ms) == std::future_status::timeout; ++i) full.deliver(1);
  ASSERT_EQ(answer.future.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(answer.future.get()) << "given up after "
                                   << std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - started).count()
                                   << " ms";
  EXPECT_GE(std::chrono::steady_clock::now() - started, 2000ms);
}

TEST(BacklogWaiter, AStalledDelivererGetsTheChunkRefusedAfterTheStallLimit) {
  FullTopic full(4);
  ASSERT_TRUE(full.deliverer);
  BacklogWaiter waiter(*full.monitor);
  Answer answer;
  const auto started = std::chrono::steady_clock::now();
  waiter.when_admitted(full.topic, kRecordBytes, 500ms, answer.then());
  ASSERT_EQ(answer.future.wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(answer.future.get());
  EXPECT_GE(std::chrono::steady_clock::now() - started, 500ms);
}

TEST(BacklogWaiter, ShutdownAnswersEveryWaitingChunk) {
  FullTopic full(2);
  ASSERT_TRUE(full.deliverer);
  Answer answer;
  {
    BacklogWaiter waiter(*full.monitor);
    waiter.when_admitted(full.topic, kRecordBytes, 1h, answer.then());
  }
  ASSERT_EQ(answer.future.wait_for(0s), std::future_status::ready);
  EXPECT_FALSE(answer.future.get());
}

}  // namespace
}  // namespace xoev
