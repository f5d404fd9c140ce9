#include "gateway/auth/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace xoev::auth {

std::optional<std::chrono::seconds> RateLimiter::take(const std::string& sender, double rate, Clock::time_point now) {
  if (rate <= 0) return std::nullopt;
  const double burst = std::max(rate, 1.0);
  std::lock_guard lock(mutex_);
  auto [it, fresh] = buckets_.try_emplace(sender, Bucket{burst, now});
  Bucket& b = it->second;
  if (!fresh) {
    const double elapsed = std::chrono::duration<double>(now - b.refilled).count();
    b.tokens = std::min(burst, b.tokens + std::max(elapsed, 0.0) * rate);
    b.refilled = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait = (1.0 - b.tokens) / rate;
  return std::chrono::seconds(static_cast<long long>(std::max(1.0, std::ceil(wait))));
}

}  // namespace xoev::auth
