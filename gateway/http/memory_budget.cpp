#include "gateway/http/memory_budget.h"

namespace xoev::http {

bool MemoryBudget::try_take(std::size_t bytes) {
  std::size_t current = in_use_.load(std::memory_order_relaxed);
  do {
    if (bytes > limit_ || current > limit_ - bytes) return false;
  } while (!in_use_.compare_exchange_weak(current, current + bytes, std::memory_order_relaxed));
  return true;
}

void MemoryBudget::give_back(std::size_t bytes) { in_use_.fetch_sub(bytes, std::memory_order_relaxed); }

bool BudgetShare::resize(std::size_t bytes) {
  if (bytes > held_) {
    if (!budget_.try_take(bytes - held_)) return false;
  } else if (bytes < held_) {
    budget_.give_back(held_ - bytes);
  }
  held_ = bytes;
  return true;
}

}  // namespace xoev::http
