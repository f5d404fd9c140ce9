// A destination topic whose backlog is full, on a real embedded cluster, for the tests
// of waiting for room (BacklogWaiter, IngestPipeline).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "gateway/kafka/backlog_monitor.h"
#include "gateway/kafka/embedded_cluster.h"
#include "tests/unit/kafka/kafka_test_support.h"

namespace xoev::test {

// One partition holding `records` undelivered records of 10 kB, a monitor whose budget
// leaves `room` bytes beside them, and a deliverer that has joined the watched group
// (one record more was delivered for that).
struct FullTopic {
  static constexpr size_t kRecordBytes = 10'000;
  static constexpr size_t kRecord = kRecordBytes + BacklogMonitor::record_overhead_bytes;
  std::unique_ptr<EmbeddedCluster> cluster;
  std::string topic;
  std::string group = unique_name("deliverer");
  std::unique_ptr<Producer> producer;
  std::unique_ptr<BacklogMonitor> monitor;
  std::unique_ptr<Consumer> deliverer;

  explicit FullTopic(int records, std::string topic_name = unique_name("waiter"), size_t room = 0)
      : topic(std::move(topic_name)) {
    using namespace std::chrono_literals;
    auto c = EmbeddedCluster::start(1, 1);
    EXPECT_TRUE(c);
    if (!c) return;
    cluster = std::move(c).value();
    EXPECT_TRUE(cluster->create_topic(topic, 1));
    auto p = Producer::create(cluster->connection(), "test", 20s);
    EXPECT_TRUE(p);
    if (!p) return;
    producer = std::move(p).value();
    monitor = std::make_unique<BacklogMonitor>(cluster->connection(), std::vector<BacklogMonitor::Watched>{{topic, group}},
                                               records * kRecord + room, 1h);
    EXPECT_TRUE(monitor->refresh_now());
    for (int i = 0; i <= records; ++i) {
      auto d = produce_sync(*producer, envelope(topic, "k", std::string(kRecordBytes, 'x')));
      EXPECT_TRUE(d);
      if (d) monitor->record_produced(topic, d->partition, d->offset, kRecordBytes);
    }
    auto consumer = Consumer::create(cluster->connection(), group, {topic}, true);
    EXPECT_TRUE(consumer);
    if (!consumer) return;
    deliverer = std::move(consumer).value();
    deliver(1);
    EXPECT_TRUE(monitor->refresh_now());
    EXPECT_EQ(monitor->undelivered_bytes(topic), records * kRecord);
  }
  // The deliverer handles and commits `n` more records.
  void deliver(size_t n) {
    using namespace std::chrono_literals;
    EXPECT_EQ(consume(*deliverer, n, 30s, true).size(), n);
  }
};

}  // namespace xoev::test
