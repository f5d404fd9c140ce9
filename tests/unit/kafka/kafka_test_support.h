// Helpers for the Kafka unit tests: unique names, synchronous produce, bounded waits.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <vector>

#include "gateway/kafka/consumer.h"
#include "gateway/kafka/producer.h"

namespace xoev::test {

using namespace std::chrono_literals;

inline std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

inline Envelope envelope(const std::string& topic, const std::string& key, const std::string& value) {
  Envelope env;
  env.topic = topic;
  env.key = key;
  env.value = value;
  env.set(header::message_id, key);
  return env;
}

// Produces and waits for the delivery report (bounded; a missing report fails the test).
inline Result<BrokerAck> produce_sync(Producer& producer, Envelope env, std::chrono::milliseconds limit = 30s) {
  auto promise = std::make_shared<std::promise<Result<BrokerAck>>>();
  auto future = promise->get_future();
  producer.produce(std::move(env), [promise](Result<BrokerAck> r) { promise->set_value(std::move(r)); });
  if (future.wait_for(limit) != std::future_status::ready)
    return Problem::make(ProblemKind::internal, "test: no delivery report within the limit");
  return future.get();
}

// Polls until `count` records arrived or the deadline passed; optionally commits each.
inline std::vector<ConsumedRecord> consume(Consumer& consumer, size_t count, std::chrono::milliseconds limit,
                                           bool commit) {
  std::vector<ConsumedRecord> out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto r = consumer.poll(200ms);
    if (!r || !*r) continue;  // transient errors while topics/groups settle
    if (commit) {
      auto s = consumer.commit(**r);
      EXPECT_TRUE(s) << (s ? "" : s.problem().detail);
    }
    out.push_back(std::move(**r));
  }
  return out;
}

}  // namespace xoev::test
