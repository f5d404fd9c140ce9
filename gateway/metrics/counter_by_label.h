// Counters keyed by one label value that is known only at run time (a refusal's
// reason). The set of values is small and bounded by the code (problem slugs), never
// by what a client sends.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace xoev::metrics {

class CounterByLabel {
 public:
  void inc(const std::string& label_value) {
    std::lock_guard lock(mu_);
    ++counts_[label_value];
  }
  std::map<std::string, uint64_t> values() const {
    std::lock_guard lock(mu_);
    return counts_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> counts_;
};

}  // namespace xoev::metrics
