// query_watermarks against the real embedded cluster: the offsets each partition
// holds, and an answer within the timeout while the partitions' leader is down.
#include "gateway/kafka/watermarks.h"

#include <gtest/gtest.h>

#include "gateway/kafka/embedded_cluster.h"
#include "kafka_test_support.h"

namespace xoev {
namespace {

using namespace std::chrono_literals;

RdKafkaHandle lookup_handle(const KafkaConnection& connection) {
  auto conf = make_rdkafka_conf(connection, {{"client.id", "watermarks-test"}});
  EXPECT_TRUE(conf);
  auto rk = make_rdkafka_handle(RD_KAFKA_CONSUMER, std::move(conf).value());
  EXPECT_TRUE(rk);
  auto handle = std::move(rk).value();
  handle.get_deleter().lookups_only = true;
  return handle;
}

TEST(Watermarks, EachPartitionReportsWhereItsLogStartsAndEnds) {
  auto cluster = EmbeddedCluster::start(1, 1);
  ASSERT_TRUE(cluster);
  const std::string topic = test::unique_name("watermarks");
  ASSERT_TRUE((*cluster)->create_topic(topic, 2));
  auto producer = Producer::create((*cluster)->connection(), "test", 20s);
  ASSERT_TRUE(producer);
  std::map<int32_t, int64_t> produced;
  for (int i = 0; i < 5; ++i) {
    auto d = test::produce_sync(**producer, test::envelope(topic, "key-" + std::to_string(i % 3), "x"));
    ASSERT_TRUE(d);
    produced[d->partition] = d->offset + 1;
  }
  auto rk = lookup_handle((*cluster)->connection());
  auto marks = query_watermarks(rk.get(), topic, 2, 5s);
  ASSERT_TRUE(marks) << marks.problem().detail;
  ASSERT_EQ(marks->size(), 2u);
  for (int32_t p = 0; p < 2; ++p) {
    EXPECT_EQ(marks->at(p).low, 0) << "partition " << p;
    EXPECT_EQ(marks->at(p).high, produced.count(p) ? produced[p] : 0) << "partition " << p;
  }
}

TEST(Watermarks, ALeaderThatIsDownIsAnErrorWithinTheTimeoutNotAHang) {
  auto cluster = EmbeddedCluster::start(1, 1);
  ASSERT_TRUE(cluster);
  const std::string topic = test::unique_name("watermarks-down");
  ASSERT_TRUE((*cluster)->create_topic(topic, 1));
  auto rk = lookup_handle((*cluster)->connection());
  ASSERT_TRUE(query_watermarks(rk.get(), topic, 1, 5s));  // the leader is now known to the handle
  ASSERT_TRUE((*cluster)->set_broker_up(1, false));
  const auto started = std::chrono::steady_clock::now();
  auto down = query_watermarks(rk.get(), topic, 1, 500ms);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.problem().kind, ProblemKind::broker_unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "waited beyond its timeout";
}

}  // namespace
}  // namespace xoev
