#include "gateway/metrics/histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

namespace xoev::metrics {
namespace {

TEST(Histogram, BucketsAreCumulativeAndTheLastIsTheCount) {
  Histogram h({1, 2, 3});
  for (double v : {0.5, 1.5, 1.7, 2.0, 2.5, 10.0}) h.observe(v);
  const auto s = h.snapshot();
  EXPECT_EQ(s.upper_bounds, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{1, 4, 5, 6}));
  EXPECT_EQ(s.count, 6u);
  EXPECT_DOUBLE_EQ(s.sum, 18.2);
}

TEST(Histogram, BoundsAreSortedDeduplicatedAndInfIsImplied) {
  Histogram h({5, 1, 1, INFINITY, 2});
  h.observe(100);
  const auto s = h.snapshot();
  EXPECT_EQ(s.upper_bounds, (std::vector<double>{1, 2, 5}));
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{0, 0, 0, 1}));
}

TEST(Histogram, DurationsAreObservedInSeconds) {
  Histogram h;
  h.observe(std::chrono::milliseconds(1500));
  EXPECT_DOUBLE_EQ(h.snapshot().sum, 1.5);
}

TEST(Histogram, ConcurrentObservationsAreAllCounted) {
  Histogram h({0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) h.observe(i % 2 ? 0.25 : 1.0);
    });
  for (auto& t : threads) t.join();
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, 40000u);
  EXPECT_EQ(s.cumulative.front(), 20000u);
  EXPECT_EQ(s.cumulative.back(), 40000u);
}

TEST(Histogram, LatencyBucketsSpanSubMillisecondToAMinute) {
  const auto b = Histogram::latency_buckets();
  EXPECT_LE(b.front(), 0.001);
  EXPECT_GE(b.back(), 60);
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
}

}  // namespace
}  // namespace xoev::metrics
