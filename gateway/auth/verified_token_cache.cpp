#include "gateway/auth/verified_token_cache.h"

#include <nlohmann/json.hpp>

#include "gateway/crypto/base64url.h"

namespace xoev::auth {

std::optional<VerifiedTokenCache::Clock::time_point> jwt_expiry(const std::string& token) {
  const auto first = token.find('.');
  const auto second = first == std::string::npos ? first : token.find('.', first + 1);
  if (second == std::string::npos) return std::nullopt;
  const auto payload = crypto::base64url_decode(std::string_view(token).substr(first + 1, second - first - 1));
  if (!payload) return std::nullopt;
  const auto claims = nlohmann::json::parse(*payload, nullptr, false);
  if (!claims.is_object() || !claims.contains("exp") || !claims["exp"].is_number_integer()) return std::nullopt;
  return VerifiedTokenCache::Clock::time_point(std::chrono::seconds(claims["exp"].get<long long>()));
}

std::optional<Identity> VerifiedTokenCache::find(const std::string& token, Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(token);
  // Strictly before exp: the clock skew a fresh verification allows is not extended here.
  if (it == entries_.end() || now >= it->second.expires) return std::nullopt;
  return it->second.identity;
}

void VerifiedTokenCache::remember(const std::string& token, const Identity& identity) {
  const auto expires = jwt_expiry(token);
  if (!expires) return;
  std::lock_guard lock(mutex_);
  if (entries_.size() >= capacity_) entries_.clear();  // expired ones go too; the next requests refill it
  entries_.insert_or_assign(token, Entry{identity, *expires});
}

}  // namespace xoev::auth
