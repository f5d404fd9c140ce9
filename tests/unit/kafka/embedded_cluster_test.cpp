// What the embedded (librdkafka 2.0 mock) cluster does on its own: these facts are what
// EmbeddedCluster's documentation and the BacklogMonitor's budget rest on.
#include "gateway/kafka/embedded_cluster.h"

#include <gtest/gtest.h>

#include "kafka_test_support.h"

namespace xoev {
namespace {

using namespace std::chrono_literals;
using test::envelope;
using test::produce_sync;

int partition_count(const KafkaConnection& conn, const std::string& topic) {
  auto conf = make_rdkafka_conf(conn, {}, {{"allow.auto.create.topics", "false"}});
  EXPECT_TRUE(conf);
  auto rk = make_rdkafka_handle(RD_KAFKA_CONSUMER, std::move(conf).value());
  EXPECT_TRUE(rk);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk->get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  int count = -1;
  if (rd_kafka_metadata(rk->get(), 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
      md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
    count = md->topics[0].partition_cnt;
  if (md) rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  return count;
}

TEST(EmbeddedCluster, CreatedTopicsHaveTheChosenPartitionsAutoCreatedOnesFour) {
  auto cluster = EmbeddedCluster::start(3, 3);
  ASSERT_TRUE(cluster);
  EXPECT_NE((*cluster)->bootstrap().find("127.0.0.1:"), std::string::npos);
  const std::string created = test::unique_name("created");
  ASSERT_TRUE((*cluster)->create_topic(created));
  ASSERT_TRUE((*cluster)->create_topic(created, 7)) << "an existing topic is fine";
  EXPECT_EQ(partition_count((*cluster)->connection(), created), 3);

  // The mock speaks Metadata v0-2 only, which has no AllowAutoTopicCreation flag: any
  // Metadata request naming an unknown topic creates it, whatever the client asked for.
  const std::string looked_up = test::unique_name("looked-up");
  EXPECT_EQ(partition_count((*cluster)->connection(), looked_up), 4) << "the mock's fixed default";

  const std::string produced_to = test::unique_name("produced-to");
  auto producer = Producer::create((*cluster)->connection(), "test", 10s);
  ASSERT_TRUE(producer);
  ASSERT_TRUE(produce_sync(**producer, envelope(produced_to, "k", "v")));
  EXPECT_EQ(partition_count((*cluster)->connection(), produced_to), 4);
}

TEST(EmbeddedCluster, BrokerIdsAreChecked) {
  auto cluster = EmbeddedCluster::start(2, 1);
  ASSERT_TRUE(cluster);
  EXPECT_FALSE((*cluster)->set_broker_up(0, false));
  EXPECT_FALSE((*cluster)->set_broker_up(3, false));
  EXPECT_TRUE((*cluster)->set_broker_up(2, false));
  EXPECT_TRUE((*cluster)->set_broker_up(2, true));
  EXPECT_FALSE(EmbeddedCluster::start(0, 1));
}

TEST(EmbeddedCluster, SilentlyDropsTheOldestRecordsBeyondAboutFiveMegabytesPerPartition) {
  auto cluster = EmbeddedCluster::start(1, 1);
  ASSERT_TRUE(cluster);
  const std::string topic = test::unique_name("retention");
  ASSERT_TRUE((*cluster)->create_topic(topic, 1));
  auto producer = Producer::create((*cluster)->connection(), "test", 20s);
  ASSERT_TRUE(producer);
  constexpr size_t record = 500'000;
  for (int i = 0; i < 14; ++i)  // 7 MB, one record per batch (produced one at a time)
    ASSERT_TRUE(produce_sync(**producer, envelope(topic, "k" + std::to_string(i), std::string(record, 'x'))));

  auto conf = make_rdkafka_conf((*cluster)->connection());
  ASSERT_TRUE(conf);
  auto rk = make_rdkafka_handle(RD_KAFKA_CONSUMER, std::move(conf).value());
  ASSERT_TRUE(rk);
  int64_t low = -1, high = -1;
  ASSERT_EQ(rd_kafka_query_watermark_offsets(rk->get(), topic.c_str(), 0, &low, &high, 5000), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(high, 14);
  EXPECT_GT(low, 0) << "the oldest records are gone although nobody consumed them";
  EXPECT_LE((high - low) * static_cast<int64_t>(record), 5 * 1024 * 1024 + static_cast<int64_t>(record));
  EXPECT_GE((high - low) * static_cast<int64_t>(record), 4 * 1024 * 1024);
}

}  // namespace
}  // namespace xoev
