// Group consumer and reader against the real embedded (mock) cluster.
#include "gateway/kafka/consumer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "gateway/kafka/embedded_cluster.h"
#include "gateway/kafka/topic_admin.h"
#include "kafka_test_support.h"

namespace xoev {
namespace {

using namespace std::chrono_literals;
using test::consume;
using test::envelope;
using test::produce_sync;

struct Fixture {
  std::unique_ptr<EmbeddedCluster> cluster;
  std::unique_ptr<Producer> producer;
  std::string topic;
};

Fixture start(int partitions) {
  Fixture f;
  auto c = EmbeddedCluster::start(3, partitions);
  EXPECT_TRUE(c);
  if (!c) return f;
  f.cluster = std::move(c).value();
  f.topic = test::unique_name("consume");
  EXPECT_TRUE(f.cluster->create_topic(f.topic, partitions));
  auto p = Producer::create(f.cluster->connection(), "test", 20s);
  EXPECT_TRUE(p);
  if (p) f.producer = std::move(p).value();
  return f;
}

std::set<std::string> keys_of(const std::vector<ConsumedRecord>& records) {
  std::set<std::string> keys;
  for (const auto& r : records) keys.insert(r.env.key);
  return keys;
}

// The deliverer asks the cluster's id and shortens the fetch wait on the mock cluster
// only: there an empty fetch is answered after the whole wait, a real broker answers
// when records arrive. The operator's setting always wins.
TEST(Consumer, TheFetchWaitIsShortenedOnTheMockClusterOnlyAndNeverOverAnOperatorsSetting) {
  auto cluster = EmbeddedCluster::start(1, 1);
  ASSERT_TRUE(cluster);
  auto id = kafka_cluster_id((*cluster)->connection(), 10s);
  ASSERT_TRUE(id) << id.problem().one_line();
  const KafkaConnection on_mock = with_fetch_wait_for_cluster((*cluster)->connection(), *id);
  ASSERT_TRUE(on_mock.properties.count("fetch.wait.max.ms")) << "cluster id " << *id;
  EXPECT_EQ(on_mock.properties.at("fetch.wait.max.ms"), kMockClusterFetchWait);
  // A KRaft cluster's id is a base64 UUID.
  EXPECT_FALSE(with_fetch_wait_for_cluster((*cluster)->connection(), "MkU3OEVBNTcwNTJENDM2Qk").properties.count(
      "fetch.wait.max.ms"));
  KafkaConnection operators = (*cluster)->connection();
  operators.properties["fetch.wait.max.ms"] = "100";
  EXPECT_EQ(with_fetch_wait_for_cluster(operators, *id).properties.at("fetch.wait.max.ms"), "100");
  // The tuned connection is one librdkafka takes.
  auto consumer = Consumer::create(on_mock, test::unique_name("fetch-wait"), {test::unique_name("fetch-wait")}, true);
  EXPECT_TRUE(consumer) << consumer.problem().one_line();
}

TEST(Consumer, AClusterThatDoesNotAnswerHasNoId) {
  KafkaConnection nowhere{"127.0.0.1:9", {}};
  auto id = kafka_cluster_id(nowhere, 1s);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.problem().kind, ProblemKind::broker_unavailable);
}

TEST(Consumer, HeadersRoundTripAsUtf8) {
  auto f = start(1);
  ASSERT_TRUE(f.producer);
  Envelope sent = envelope(f.topic, "7d3c9a2e-0000-4000-8000-000000000001", std::string("<x>\0bin\xff</x>", 13));
  sent.set(header::sender, "psw:06414000 Standesamt Wiesbaden – Müller & Söhne ✓");
  sent.set(header::recipient, "αβγ 日本 🚀");
  sent.set(header::content_type, "application/xml");
  sent.set("empty", "");
  ASSERT_TRUE(produce_sync(*f.producer, sent));

  auto consumer = Consumer::create(f.cluster->connection(), test::unique_name("group"), {f.topic}, true);
  ASSERT_TRUE(consumer) << consumer.problem().detail;
  auto got = consume(**consumer, 1, 30s, true);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].env.topic, sent.topic);
  EXPECT_EQ(got[0].env.key, sent.key);
  EXPECT_EQ(got[0].env.value, sent.value) << "values are bytes, not C strings";
  EXPECT_EQ(got[0].env.headers, sent.headers) << "names, values and order survive";
  EXPECT_EQ(got[0].offset, 0);
  EXPECT_GT(got[0].timestamp_ms, 1'600'000'000'000);
}

TEST(Consumer, SecondMemberOfTheGroupResumesAfterTheCommittedOffsets) {
  auto f = start(3);
  ASSERT_TRUE(f.producer);
  std::set<std::string> sent;
  for (int i = 0; i < 30; ++i) {
    const std::string key = "m" + std::to_string(i);
    ASSERT_TRUE(produce_sync(*f.producer, envelope(f.topic, key, "v")));
    sent.insert(key);
  }
  const std::string group = test::unique_name("group");
  std::set<std::string> handled_by_first;
  {
    auto first = Consumer::create(f.cluster->connection(), group, {f.topic}, true);
    ASSERT_TRUE(first);
    auto got = consume(**first, 12, 30s, true);  // handled and committed one by one
    ASSERT_EQ(got.size(), 12u);
    handled_by_first = keys_of(got);
    (*first)->close();  // whatever it fetched beyond these 12 is not committed
  }
  auto second = Consumer::create(f.cluster->connection(), group, {f.topic}, true);
  ASSERT_TRUE(second);
  auto rest = consume(**second, 18, 30s, true);
  std::set<std::string> handled_by_second = keys_of(rest);
  EXPECT_EQ(rest.size(), 18u);
  std::set<std::string> all = handled_by_first;
  all.insert(handled_by_second.begin(), handled_by_second.end());
  EXPECT_EQ(all, sent) << "nothing lost";
  for (const auto& k : handled_by_second) EXPECT_EQ(handled_by_first.count(k), 0u) << k << " was committed already";
  auto extra = (*second)->poll(300ms);
  ASSERT_TRUE(extra);
  EXPECT_FALSE(extra->has_value()) << "nothing beyond the 30 records";
}

TEST(Consumer, SeekRereadsTheRecordForARetry) {
  auto f = start(1);
  ASSERT_TRUE(f.producer);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(produce_sync(*f.producer, envelope(f.topic, "k" + std::to_string(i), "v")));
  auto consumer = Consumer::create(f.cluster->connection(), test::unique_name("group"), {f.topic}, true);
  ASSERT_TRUE(consumer);
  auto first = consume(**consumer, 2, 30s, false);
  ASSERT_EQ(first.size(), 2u);
  ASSERT_TRUE((*consumer)->seek(first[0]));
  auto again = consume(**consumer, 3, 30s, false);
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0].offset, 0);
  EXPECT_EQ(again[0].env.key, "k0");
  EXPECT_EQ(again[2].offset, 2);
}

TEST(Consumer, SubscribingBeforeTheTopicExistsWorks) {
  auto c = EmbeddedCluster::start(3, 3);
  ASSERT_TRUE(c);
  const std::string topic = test::unique_name("later");
  auto consumer = Consumer::create((*c)->connection(), test::unique_name("group"), {topic}, true);
  ASSERT_TRUE(consumer);
  (void)(*consumer)->poll(500ms);  // subscribe first (this auto-creates the topic in the mock)
  auto producer = Producer::create((*c)->connection(), "test", 20s);
  ASSERT_TRUE(producer);
  ASSERT_TRUE(produce_sync(**producer, envelope(topic, "first", "v")));
  auto got = consume(**consumer, 1, 30s, true);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].env.key, "first");
}

TEST(Consumer, ReaderReadsTheWholeTopicWithoutAGroup) {
  auto f = start(3);
  ASSERT_TRUE(f.producer);
  std::set<std::string> sent;
  for (int i = 0; i < 9; ++i) {
    sent.insert("s" + std::to_string(i));
    ASSERT_TRUE(produce_sync(*f.producer, envelope(f.topic, "s" + std::to_string(i), "v")));
  }
  auto reader = Consumer::create_reader(f.cluster->connection(), f.topic, 10s);
  ASSERT_TRUE(reader) << reader.problem().detail;
  auto before = (*reader)->caught_up();
  ASSERT_TRUE(before);
  EXPECT_FALSE(*before);
  auto got = consume(**reader, 9, 30s, false);
  EXPECT_EQ(keys_of(got), sent);
  auto after = (*reader)->caught_up();
  ASSERT_TRUE(after);
  EXPECT_TRUE(*after);
  auto commit = (*reader)->commit(got.front());
  ASSERT_FALSE(commit);
  EXPECT_EQ(commit.problem().kind, ProblemKind::usage);

  // A second reader sees everything again: readers never move a group's offsets.
  auto again = Consumer::create_reader(f.cluster->connection(), f.topic, 10s);
  ASSERT_TRUE(again);
  EXPECT_EQ(keys_of(consume(**again, 9, 30s, false)), sent);
}

TEST(Consumer, BrokerDownAndUpMidStreamLosesNothing) {
  auto f = start(3);
  ASSERT_TRUE(f.producer);
  constexpr int total = 300;
  std::mutex mu;
  std::condition_variable cv;
  int reports = 0;
  std::vector<std::string> failures;
  auto produce = [&](int i) {
    f.producer->produce(envelope(f.topic, "r" + std::to_string(i), std::string(200, 'x')), [&](Result<BrokerAck> r) {
      std::lock_guard lock(mu);
      ++reports;
      if (!r) failures.push_back(r.problem().detail);
      cv.notify_all();
    });
  };
  for (int i = 0; i < total / 3; ++i) produce(i);
  ASSERT_TRUE(f.cluster->set_broker_up(2, false));
  for (int i = total / 3; i < 2 * total / 3; ++i) produce(i);
  ASSERT_TRUE(f.cluster->set_broker_up(2, true));
  for (int i = 2 * total / 3; i < total; ++i) produce(i);
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 40s, [&] { return reports == total; })) << reports << " of " << total;
    EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
  }
  auto consumer = Consumer::create(f.cluster->connection(), test::unique_name("group"), {f.topic}, true);
  ASSERT_TRUE(consumer);
  auto got = consume(**consumer, total, 60s, true);
  EXPECT_EQ(got.size(), static_cast<size_t>(total)) << "the idempotent producer wrote each record exactly once";
  EXPECT_EQ(keys_of(got).size(), static_cast<size_t>(total));
  auto extra = (*consumer)->poll(300ms);
  ASSERT_TRUE(extra);
  EXPECT_FALSE(extra->has_value()) << "no duplicates in the log";
}

}  // namespace
}  // namespace xoev
