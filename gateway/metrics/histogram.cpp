#include "gateway/metrics/histogram.h"

#include <algorithm>
#include <cmath>

namespace xoev::metrics {

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  bounds_.erase(std::remove_if(bounds_.begin(), bounds_.end(), [](double b) { return !std::isfinite(b); }), bounds_.end());
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  per_bucket_.assign(bounds_.size() + 1, 0);
}

void Histogram::observe(double value) {
  // The first bound >= value: "le" means less than or equal.
  const auto bucket = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  std::lock_guard lock(mu_);
  ++per_bucket_[bucket];
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.upper_bounds = bounds_;
  std::lock_guard lock(mu_);
  s.cumulative.reserve(per_bucket_.size());
  uint64_t running = 0;
  for (uint64_t n : per_bucket_) s.cumulative.push_back(running += n);
  s.sum = sum_;
  s.count = count_;
  return s;
}

std::vector<double> Histogram::latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

}  // namespace xoev::metrics
