// A monotonically increasing count, safe to bump from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace xoev::metrics {

class Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

}  // namespace xoev::metrics
