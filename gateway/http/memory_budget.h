// One pool of request-body memory shared by all connections of a server. A connection
// takes what its request occupies before it reads on, and gives it back when the
// request is answered; when the pool is empty new bodies get 503 instead of memory.
#pragma once

#include <atomic>
#include <cstddef>

namespace xoev::http {

class MemoryBudget {
 public:
  explicit MemoryBudget(std::size_t limit) : limit_(limit) {}

  // All or nothing: false (and nothing taken) if `bytes` more would exceed the limit.
  bool try_take(std::size_t bytes);
  void give_back(std::size_t bytes);
  std::size_t in_use() const { return in_use_.load(std::memory_order_relaxed); }
  std::size_t limit() const { return limit_; }

 private:
  const std::size_t limit_;
  std::atomic<std::size_t> in_use_{0};
};

// What one connection holds of a MemoryBudget; gives it all back when destroyed.
class BudgetShare {
 public:
  explicit BudgetShare(MemoryBudget& budget) : budget_(budget) {}
  ~BudgetShare() { resize(0); }
  BudgetShare(const BudgetShare&) = delete;
  BudgetShare& operator=(const BudgetShare&) = delete;

  // Grows or shrinks the share to `bytes`; false (share unchanged) if growing fails.
  bool resize(std::size_t bytes);
  std::size_t held() const { return held_; }

 private:
  MemoryBudget& budget_;
  std::size_t held_ = 0;
};

}  // namespace xoev::http
