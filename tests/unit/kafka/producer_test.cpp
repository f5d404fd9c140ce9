// Producer against the real embedded (mock) cluster: delivery reports are the truth.
#include "gateway/kafka/producer.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "gateway/kafka/embedded_cluster.h"
#include "kafka_test_support.h"

namespace xoev {
namespace {

using namespace std::chrono_literals;
using test::envelope;
using test::produce_sync;

TEST(Producer, DeliveryReportCarriesPartitionAndOffset) {
  auto cluster = EmbeddedCluster::start(3, 3);
  ASSERT_TRUE(cluster) << cluster.problem().detail;
  const std::string topic = test::unique_name("produce");
  ASSERT_TRUE((*cluster)->create_topic(topic, 3));
  auto producer = Producer::create((*cluster)->connection(), "test", 10s);
  ASSERT_TRUE(producer) << producer.problem().detail;

  std::map<int32_t, int64_t> next_offset;
  std::map<std::string, int32_t> partition_of_key;
  for (int i = 0; i < 12; ++i) {
    const std::string key = "key-" + std::to_string(i % 4);
    auto d = produce_sync(**producer, envelope(topic, key, "value " + std::to_string(i)));
    ASSERT_TRUE(d) << d.problem().detail;
    ASSERT_GE(d->partition, 0);
    ASSERT_LT(d->partition, 3);
    EXPECT_EQ(d->offset, next_offset[d->partition]) << "offsets of a partition count up from 0";
    next_offset[d->partition] = d->offset + 1;
    auto [it, fresh] = partition_of_key.emplace(key, d->partition);
    EXPECT_EQ(it->second, d->partition) << "the same key always lands in the same partition";
  }
  EXPECT_TRUE((*producer)->reachable(5s));
  EXPECT_TRUE((*producer)->flush(5s));
}

TEST(Producer, BadPropertyIsConfigInvalidNamingIt) {
  KafkaConnection conn{"127.0.0.1:1", {{"no.such.property", "1"}}};
  auto producer = Producer::create(conn, "test", 1s);
  ASSERT_FALSE(producer);
  EXPECT_EQ(producer.problem().kind, ProblemKind::config_invalid);
  EXPECT_NE(producer.problem().detail.find("no.such.property"), std::string::npos) << producer.problem().detail;
}

TEST(Producer, AllBrokersDownFailsWithBrokerUnavailableWithinTheTimeout) {
  auto cluster = EmbeddedCluster::start(3, 3);
  ASSERT_TRUE(cluster);
  const std::string topic = test::unique_name("down");
  ASSERT_TRUE((*cluster)->create_topic(topic, 3));
  const auto timeout = 2000ms;
  auto producer = Producer::create((*cluster)->connection(), "test", timeout);
  ASSERT_TRUE(producer);
  ASSERT_TRUE(produce_sync(**producer, envelope(topic, "before", "x")));  // connected and metadata known

  for (int b = 1; b <= 3; ++b) ASSERT_TRUE((*cluster)->set_broker_up(b, false));
  const auto started = std::chrono::steady_clock::now();
  auto d = produce_sync(**producer, envelope(topic, "during", "x"), 20s);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(d) << "a record no broker has acknowledged must not be reported delivered";
  EXPECT_EQ(d.problem().kind, ProblemKind::broker_unavailable);
  EXPECT_NE(d.problem().detail.find("timed out"), std::string::npos) << d.problem().detail;
  // librdkafka checks message timeouts about once a second per broker thread.
  EXPECT_LT(took, timeout + 3s) << "the delivery timeout bounds the wait";
  EXPECT_FALSE((*producer)->reachable(500ms));

  for (int b = 1; b <= 3; ++b) ASSERT_TRUE((*cluster)->set_broker_up(b, true));
  // Reconnecting may take longer than one 2 s delivery timeout: retry until a deadline.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  Result<BrokerAck> after = Problem::make(ProblemKind::internal, "not tried");
  while (!after && std::chrono::steady_clock::now() < deadline) after = produce_sync(**producer, envelope(topic, "after", "x"));
  EXPECT_TRUE(after) << "the producer recovers once brokers are back: " << (after ? "" : after.problem().detail);
}

TEST(Producer, FullQueueFailsAtOnceWithoutBlocking) {
  auto cluster = EmbeddedCluster::start(1, 1);
  ASSERT_TRUE(cluster);
  const std::string topic = test::unique_name("full");
  ASSERT_TRUE((*cluster)->create_topic(topic, 1));
  KafkaConnection conn = (*cluster)->connection();
  conn.properties["queue.buffering.max.messages"] = "2";
  auto producer = Producer::create(conn, "test", 2s);
  ASSERT_TRUE(producer);
  ASSERT_TRUE(produce_sync(**producer, envelope(topic, "warm-up", "x")));
  ASSERT_TRUE((*cluster)->set_broker_up(1, false));

  std::atomic<int> reports{0};
  std::atomic<int> failures{0};
  for (int i = 0; i < 2; ++i)
    (*producer)->produce(envelope(topic, "queued", "x"), [&](Result<BrokerAck>) { ++reports; });
  const auto caller = std::this_thread::get_id();
  std::thread::id reported_on;
  Problem refused;
  const auto started = std::chrono::steady_clock::now();
  (*producer)->produce(envelope(topic, "one-too-many", "x"), [&](Result<BrokerAck> r) {
    reported_on = std::this_thread::get_id();
    if (!r) refused = r.problem();
    ++failures;
  });
  EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms);
  EXPECT_EQ(failures.load(), 1) << "the refusal is reported before produce() returns";
  EXPECT_EQ(reported_on, caller);
  EXPECT_EQ(refused.kind, ProblemKind::broker_unavailable);
  EXPECT_NE(refused.detail.find("Queue full"), std::string::npos) << refused.detail;
  producer->reset();  // destruction fails what is left: every callback ran exactly once
  EXPECT_EQ(reports.load(), 2);
}

TEST(Producer, DestructionReportsUndeliveredRecordsAsFailed) {
  auto cluster = EmbeddedCluster::start(1, 1);
  ASSERT_TRUE(cluster);
  const std::string topic = test::unique_name("destroy");
  ASSERT_TRUE((*cluster)->create_topic(topic, 1));
  auto producer = Producer::create((*cluster)->connection(), "test", 1500ms);
  ASSERT_TRUE(producer);
  ASSERT_TRUE(produce_sync(**producer, envelope(topic, "warm-up", "x")));
  ASSERT_TRUE((*cluster)->set_broker_up(1, false));
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < 5; ++i)
    (*producer)->produce(envelope(topic, "k" + std::to_string(i), "x"), [&](Result<BrokerAck> r) { r ? ++ok : ++failed; });
  const auto started = std::chrono::steady_clock::now();
  producer->reset();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(ok.load(), 0);
  EXPECT_EQ(failed.load(), 5);
}

// What GatewayRuntime::stop() relies on: when close() returns, every callback has run —
// also those of records produced from a callback while closing — and later produce()
// calls are answered at once, so no callback can outlive what it reaches.
TEST(Producer, CloseServesEveryReportIncludingRecordsProducedWhileClosing) {
  auto cluster = EmbeddedCluster::start(1, 1);
  ASSERT_TRUE(cluster);
  const std::string topic = test::unique_name("close");
  ASSERT_TRUE((*cluster)->create_topic(topic, 1));
  auto producer = Producer::create((*cluster)->connection(), "test", 1500ms);
  ASSERT_TRUE(producer);
  ASSERT_TRUE(produce_sync(**producer, envelope(topic, "warm-up", "x")));
  ASSERT_TRUE((*cluster)->set_broker_up(1, false));
  std::atomic<int> first{0}, follow_up{0}, ok{0};
  Producer& p = **producer;
  for (int i = 0; i < 5; ++i)
    p.produce(envelope(topic, "k" + std::to_string(i), "x"), [&, i](Result<BrokerAck> r) {
      if (r) ++ok;
      ++first;
      // Like the pipeline's receipt for an answered message: produced from a report.
      p.produce(envelope(topic, "receipt-" + std::to_string(i), "x"), [&](Result<BrokerAck> r2) {
        if (r2) ++ok;
        ++follow_up;
      });
    });
  p.close();
  EXPECT_EQ(first.load(), 5);
  EXPECT_EQ(follow_up.load(), 5) << "a record produced while closing still gets its one report";
  EXPECT_EQ(ok.load(), 0);

  std::atomic<int> after{0};
  p.produce(envelope(topic, "late", "x"), [&](Result<BrokerAck> r) {
    EXPECT_FALSE(r);
    ++after;
  });
  EXPECT_EQ(after.load(), 1) << "after close() a record is refused at once, on the caller's thread";
  p.close();  // idempotent
}

}  // namespace
}  // namespace xoev
