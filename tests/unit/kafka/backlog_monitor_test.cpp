// BacklogMonitor against the real embedded cluster: undelivered bytes rise with
// produced records and fall when the watched group commits.
#include "gateway/kafka/backlog_monitor.h"

#include <gtest/gtest.h>

#include "gateway/kafka/embedded_cluster.h"
#include "kafka_test_support.h"

namespace xoev {
namespace {

using namespace std::chrono_literals;
using test::envelope;
using test::produce_sync;

constexpr size_t kRecordBytes = 10'000;
constexpr size_t kOverhead = BacklogMonitor::record_overhead_bytes;

TEST(BacklogMonitor, ARecordThatExactlyFillsTheBudgetIsAdmitted) {
  auto cluster = EmbeddedCluster::start(1, 1);
  ASSERT_TRUE(cluster);
  const std::string topic = test::unique_name("backlog-edge");
  ASSERT_TRUE((*cluster)->create_topic(topic, 1));
  auto producer = Producer::create((*cluster)->connection(), "test", 20s);
  ASSERT_TRUE(producer);
  BacklogMonitor monitor((*cluster)->connection(), {{topic, test::unique_name("g")}}, 2 * (kRecordBytes + kOverhead), 1h);
  ASSERT_TRUE(monitor.refresh_now());
  auto d = produce_sync(**producer, envelope(topic, "k", std::string(kRecordBytes, 'x')));
  ASSERT_TRUE(d);
  monitor.record_produced(topic, d->partition, d->offset, kRecordBytes);
  EXPECT_TRUE(monitor.admits(topic, kRecordBytes)) << "the second record fills the budget exactly";
  EXPECT_FALSE(monitor.admits(topic, kRecordBytes + 1));
}

TEST(BacklogMonitor, ReservedBytesCountAgainstTheBudgetUntilReleased) {
  auto cluster = EmbeddedCluster::start(1, 1);
  ASSERT_TRUE(cluster);
  const std::string topic = test::unique_name("backlog-reserve");
  ASSERT_TRUE((*cluster)->create_topic(topic, 2));
  BacklogMonitor monitor((*cluster)->connection(), {{topic, test::unique_name("g")}}, 3 * (kRecordBytes + kOverhead), 1h);
  ASSERT_TRUE(monitor.refresh_now());
  // Three submissions admitted at once, none acknowledged yet: the third fills the
  // budget, a fourth is refused although the ledger is still empty.
  for (int i = 0; i < 3; ++i) {
    auto r = monitor.try_reserve(topic, kRecordBytes);
    ASSERT_TRUE(r) << "reservation " << i;
    EXPECT_EQ(*r, kRecordBytes + kOverhead) << "counted as the ledger will count the record";
  }
  EXPECT_EQ(monitor.undelivered_bytes(topic), 0u) << "reserved is not yet undelivered";
  EXPECT_FALSE(monitor.try_reserve(topic, 1)) << "reservations are counted whichever partition each lands in";
  EXPECT_FALSE(monitor.admits(topic, 1));
  monitor.release(topic, kRecordBytes + kOverhead);
  EXPECT_TRUE(monitor.admits(topic, kRecordBytes)) << "a release frees its bytes";
  EXPECT_TRUE(monitor.try_reserve(topic, kRecordBytes));
  EXPECT_FALSE(monitor.try_reserve(topic, kRecordBytes));
  // Unwatched topics count nothing, so their release frees nothing of a watched one's.
  auto unwatched = monitor.try_reserve("some-unwatched-topic", 1u << 30);
  ASSERT_TRUE(unwatched);
  EXPECT_EQ(*unwatched, 0u);
  monitor.release("some-unwatched-topic", *unwatched);
  EXPECT_FALSE(monitor.admits(topic, kRecordBytes));
}

TEST(BacklogMonitor, UndeliveredBytesRiseOnProduceAndFallAfterTheGroupCommits) {
  auto cluster = EmbeddedCluster::start(3, 2);
  ASSERT_TRUE(cluster);
  const std::string topic = test::unique_name("backlog");
  const std::string group = test::unique_name("deliverer");
  ASSERT_TRUE((*cluster)->create_topic(topic, 2));
  auto producer = Producer::create((*cluster)->connection(), "test", 20s);
  ASSERT_TRUE(producer);
  const size_t budget = 8 * (kRecordBytes + kOverhead);
  BacklogMonitor monitor((*cluster)->connection(), {{topic, group}}, budget, 1h);  // refreshed by hand below
  ASSERT_TRUE(monitor.refresh_now()) << monitor.last_refresh().problem().detail;
  EXPECT_EQ(monitor.undelivered_bytes(topic), 0u);
  EXPECT_TRUE(monitor.admits(topic, kRecordBytes));
  EXPECT_TRUE(monitor.admits("some-unwatched-topic", 1u << 30));

  // 8 records of 10 kB, same key → same partition, so that partition fills the budget.
  for (int i = 0; i < 8; ++i) {
    auto d = produce_sync(**producer, envelope(topic, "same-key", std::string(kRecordBytes, 'x')));
    ASSERT_TRUE(d);
    monitor.record_produced(topic, d->partition, d->offset, kRecordBytes);
    EXPECT_EQ(monitor.undelivered_bytes(topic), (i + 1) * (kRecordBytes + kOverhead));
  }
  ASSERT_TRUE(monitor.refresh_now());
  EXPECT_EQ(monitor.undelivered_bytes(topic), 8 * (kRecordBytes + kOverhead)) << "watermarks agree with the ledger";
  EXPECT_FALSE(monitor.admits(topic, kRecordBytes)) << "one more would exceed the budget of the fullest partition";

  // A restarted gateway knows no sizes: the same backlog counts at the estimated size.
  BacklogMonitor restarted((*cluster)->connection(), {{topic, group}}, budget, 1h, 50'000);
  ASSERT_TRUE(restarted.refresh_now());
  EXPECT_EQ(restarted.undelivered_bytes(topic), 8 * (50'000 + kOverhead));

  // The deliverer handles and commits 5 of them.
  auto consumer = Consumer::create((*cluster)->connection(), group, {topic}, true);
  ASSERT_TRUE(consumer);
  auto got = test::consume(**consumer, 5, 30s, true);
  ASSERT_EQ(got.size(), 5u);
  ASSERT_TRUE(monitor.refresh_now());
  EXPECT_EQ(monitor.undelivered_bytes(topic), 3 * (kRecordBytes + kOverhead));
  EXPECT_TRUE(monitor.admits(topic, kRecordBytes));
  ASSERT_TRUE(restarted.refresh_now());
  EXPECT_EQ(restarted.undelivered_bytes(topic), 3 * (50'000 + kOverhead));

  auto rest = test::consume(**consumer, 3, 30s, true);
  ASSERT_EQ(rest.size(), 3u);
  ASSERT_TRUE(monitor.refresh_now());
  EXPECT_EQ(monitor.undelivered_bytes(topic), 0u);
  EXPECT_EQ(monitor.max_partition_undelivered_bytes(topic), 0u);
}

// The waiter of an upload refreshes only its topic's offsets: the other topic keeps
// what the last refresh of it said until a refresh covers it.
TEST(BacklogMonitor, ARefreshOfSomeTopicsLeavesTheOthersAsTheyWere) {
  auto cluster = EmbeddedCluster::start(1, 1);
  ASSERT_TRUE(cluster);
  const std::string a = test::unique_name("backlog-a"), b = test::unique_name("backlog-b");
  const std::string group_a = test::unique_name("deliverer-a"), group_b = test::unique_name("deliverer-b");
  ASSERT_TRUE((*cluster)->create_topic(a, 1));
  ASSERT_TRUE((*cluster)->create_topic(b, 1));
  auto producer = Producer::create((*cluster)->connection(), "test", 20s);
  ASSERT_TRUE(producer);
  BacklogMonitor monitor((*cluster)->connection(), {{a, group_a}, {b, group_b}}, 1u << 20, 1h);
  ASSERT_TRUE(monitor.refresh_now());
  for (const auto& topic : {a, b})
    for (int i = 0; i < 2; ++i) {
      auto d = produce_sync(**producer, envelope(topic, "k", std::string(kRecordBytes, 'x')));
      ASSERT_TRUE(d);
      monitor.record_produced(topic, d->partition, d->offset, kRecordBytes);
    }
  for (const auto& [topic, group] : {std::pair{a, group_a}, std::pair{b, group_b}}) {
    auto consumer = Consumer::create((*cluster)->connection(), group, {topic}, true);
    ASSERT_TRUE(consumer);
    ASSERT_EQ(test::consume(**consumer, 2, 30s, true).size(), 2u);
  }
  ASSERT_TRUE(monitor.refresh_now({a}));
  EXPECT_EQ(monitor.undelivered_bytes(a), 0u);
  EXPECT_EQ(monitor.undelivered_bytes(b), 2 * (kRecordBytes + kOverhead)) << "b was not refreshed";
  ASSERT_TRUE(monitor.refresh_now());
  EXPECT_EQ(monitor.undelivered_bytes(b), 0u);
}

// librdkafka's mock cluster (embedded, dev-kafka) names itself; a real cluster's id is
// a base64 UUID (KRaft) or a ZooKeeper-generated one.
TEST(BacklogMonitor, OnlyTheMockClusterIdCountsAsDroppingRecords) {
  EXPECT_TRUE(BacklogMonitor::is_mock_cluster_id("mockCluster156172ffdc2c"));
  EXPECT_FALSE(BacklogMonitor::is_mock_cluster_id("MkU3OEVBNTcwNTJENDM2Qk"));
  EXPECT_FALSE(BacklogMonitor::is_mock_cluster_id(""));
}

// Without a configured budget the monitor asks the cluster who it is: nothing is
// admitted before it knows, and the mock cluster gets the budget.
TEST(BacklogMonitor, AMockClusterIsRecognisedAndGetsTheBudget) {
  auto cluster = EmbeddedCluster::start(1, 1);
  ASSERT_TRUE(cluster);
  const std::string topic = test::unique_name("backlog-identify");
  ASSERT_TRUE((*cluster)->create_topic(topic, 1));
  BacklogMonitor monitor((*cluster)->connection(), {{topic, test::unique_name("g")}}, kRecordBytes + kOverhead, 1h,
                         64 * 1024, BacklogMonitor::Applies::if_cluster_drops_records);
  for (int i = 0; i < 50 && !monitor.limits_apply(); ++i) (void)monitor.refresh_now();
  ASSERT_TRUE(monitor.limits_apply()) << "the embedded cluster is librdkafka's mock cluster";
  EXPECT_TRUE(monitor.admits(topic, kRecordBytes));
  EXPECT_FALSE(monitor.admits(topic, kRecordBytes + 1)) << "the budget applies";
}

TEST(BacklogMonitor, RefreshFailsWhileTheClusterIsDownAndStopsCleanly) {
  auto cluster = EmbeddedCluster::start(1, 1);
  ASSERT_TRUE(cluster);
  const std::string topic = test::unique_name("backlog-down");
  ASSERT_TRUE((*cluster)->create_topic(topic, 1));
  auto monitor = std::make_unique<BacklogMonitor>((*cluster)->connection(),
                                                  std::vector<BacklogMonitor::Watched>{{topic, "g"}}, 1u << 20, 50ms);
  ASSERT_TRUE(monitor->refresh_now());
  ASSERT_TRUE((*cluster)->set_broker_up(1, false));
  auto down = monitor->refresh_now();
  ASSERT_FALSE(down);
  EXPECT_EQ(down.problem().kind, ProblemKind::broker_unavailable);
  const auto started = std::chrono::steady_clock::now();
  monitor.reset();  // the background thread stops within one refresh timeout
  EXPECT_LT(std::chrono::steady_clock::now() - started, 6s);
}

}  // namespace
}  // namespace xoev
