// A histogram with fixed bucket bounds (Prometheus semantics: a bucket counts the
// observations <= its upper bound; +Inf is implied and always equals the count).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

namespace xoev::metrics {

class Histogram {
 public:
  struct Snapshot {
    std::vector<double> upper_bounds;  // finite, ascending; +Inf not included
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };

  // Bounds are sorted and de-duplicated; non-finite ones are dropped (+Inf is implied).
  explicit Histogram(std::vector<double> upper_bounds = latency_buckets());
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void observe(double value);
  void observe(std::chrono::steady_clock::duration d) { observe(std::chrono::duration<double>(d).count()); }
  // Count, sum and buckets from one moment (never a count that disagrees with +Inf).
  Snapshot snapshot() const;

  // Seconds, 0.5 ms to 60 s: covers a 0.1 ms parse and a minute of HTTP retries.
  static std::vector<double> latency_buckets();

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> per_bucket_;  // not cumulative; the last one is (bounds_.back(), +Inf]
  double sum_ = 0;
  uint64_t count_ = 0;
};

}  // namespace xoev::metrics
