// Per-sender token buckets: `rate` tokens a second, bursts up to one second's worth
// (at least 1). A refused request learns how long until a token is there.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace xoev::auth {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // Nullopt: allowed (a token was taken). Else the wait before retrying, rounded up to
  // whole seconds for Retry-After. A rate <= 0 means unlimited.
  std::optional<std::chrono::seconds> take(const std::string& sender, double rate, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point refilled;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;  // one per configured sender: bounded by the config
};

}  // namespace xoev::auth
