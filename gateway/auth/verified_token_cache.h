// Bearer tokens already verified, until their exp: a client sends the same token with
// every request for up to 30 minutes, and checking its signature each time (ES256 or
// RS256, ~60–120 µs) would cost a third of a message's accept path. Keyed by the whole
// token, so a changed byte is a miss; bounded (emptied when full). One per
// Authenticator: a reload starts with none, so removed senders take effect at once.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "gateway/auth/identity.h"

namespace xoev::auth {

class VerifiedTokenCache {
 public:
  using Clock = std::chrono::system_clock;
  explicit VerifiedTokenCache(std::size_t capacity = 4096) : capacity_(capacity) {}

  // The identity of a token verified before, if it has not expired by `now`.
  std::optional<Identity> find(const std::string& token, Clock::time_point now) const;
  // Remembers a token that verified; `token`'s exp claim bounds how long (none: not kept).
  void remember(const std::string& token, const Identity& identity);

 private:
  struct Entry {
    Identity identity;
    Clock::time_point expires;
  };
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

// The exp claim of a compact JWS, read without verifying (the caller verified it).
std::optional<VerifiedTokenCache::Clock::time_point> jwt_expiry(const std::string& token);

}  // namespace xoev::auth
