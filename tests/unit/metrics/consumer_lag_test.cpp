// xoevgate_consumer_lag comes from Consumer::lag(): committed offset against the high
// watermark, as the consumer itself sees them (here on the real embedded cluster).
#include <gtest/gtest.h>

#include <thread>

#include "gateway/kafka/consumer.h"
#include "gateway/kafka/embedded_cluster.h"
#include "gateway/kafka/producer.h"
#include "../kafka/kafka_test_support.h"

namespace xoev {
namespace {

using namespace std::chrono_literals;

// Lag of the one partition once the consumer reports it (it needs a fetch response).
int64_t lag_of(Consumer& c, std::chrono::milliseconds limit = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    (void)c.poll(100ms);  // keeps the fetcher (and its watermarks) going; nothing arrives here
    if (auto l = c.lag(); l.size() == 1) return l[0].lag();
  }
  return -1;
}

TEST(ConsumerLag, FollowsTheGroupsCommitsAndSurvivesANewMember) {
  auto cluster = EmbeddedCluster::start(1, 1);
  ASSERT_TRUE(cluster) << cluster.problem().detail;
  const std::string topic = test::unique_name("lag");
  ASSERT_TRUE((*cluster)->create_topic(topic, 1));
  auto producer = Producer::create((*cluster)->connection(), "test", 20s);
  ASSERT_TRUE(producer);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(test::produce_sync(**producer, test::envelope(topic, "k" + std::to_string(i), "v")));

  const std::string group = test::unique_name("group");
  auto consumer = Consumer::create((*cluster)->connection(), group, {topic}, true);
  ASSERT_TRUE(consumer);
  auto got = test::consume(**consumer, 3, 30s, false);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(lag_of(**consumer), 3) << "read but not committed: all three are still lag";
  ASSERT_TRUE((*consumer)->commit(got[0]));
  EXPECT_EQ(lag_of(**consumer), 2);
  ASSERT_TRUE((*consumer)->commit(got[2]));
  EXPECT_EQ(lag_of(**consumer), 0);
  ASSERT_TRUE(test::produce_sync(**producer, test::envelope(topic, "k3", "v")));
  (void)test::consume(**consumer, 1, 30s, false);
  EXPECT_EQ(lag_of(**consumer), 1) << "a new record is lag until committed";
  (*consumer)->close();

  // A new member learns the group's committed offset from the coordinator.
  auto next = Consumer::create((*cluster)->connection(), group, {topic}, true);
  ASSERT_TRUE(next);
  EXPECT_EQ(lag_of(**next), 1);
}

}  // namespace
}  // namespace xoev
