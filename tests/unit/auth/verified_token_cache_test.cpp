#include "gateway/auth/verified_token_cache.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "gateway/crypto/base64url.h"

using namespace xoev;
using namespace std::chrono_literals;

namespace {
// Only the payload matters to the cache (the caller verified the signature).
std::string token_expiring(std::chrono::system_clock::time_point exp, const std::string& sub = "a") {
  const nlohmann::json claims = {{"sub", sub},
                                 {"exp", std::chrono::duration_cast<std::chrono::seconds>(exp.time_since_epoch()).count()}};
  return crypto::base64url_encode(R"({"alg":"ES256"})") + "." + crypto::base64url_encode(claims.dump()) + ".sig";
}
}  // namespace

TEST(VerifiedTokenCache, KnownUntilItsExpiryThenNot) {
  auth::VerifiedTokenCache cache;
  const auto now = std::chrono::system_clock::now();
  const std::string token = token_expiring(now + 60s);
  EXPECT_FALSE(cache.find(token, now));
  cache.remember(token, {"dienst-a", false, "token"});
  ASSERT_TRUE(cache.find(token, now));
  EXPECT_EQ(cache.find(token, now)->sender, "dienst-a");
  EXPECT_TRUE(cache.find(token, now + 59s));
  EXPECT_FALSE(cache.find(token, now + 60s)) << "an expired token must be verified again (and refused)";
  EXPECT_FALSE(cache.find(token_expiring(now + 60s, "b"), now)) << "another token is a miss";
}

TEST(VerifiedTokenCache, TokensWithoutExpiryAreNotKeptAndTheSizeIsBounded) {
  auth::VerifiedTokenCache cache(2);
  const auto now = std::chrono::system_clock::now();
  const std::string no_exp = crypto::base64url_encode("{}") + "." + crypto::base64url_encode(R"({"sub":"a"})") + ".s";
  cache.remember(no_exp, {"a", false, "jwt"});
  EXPECT_FALSE(cache.find(no_exp, now));
  for (const char* sub : {"a", "b", "c"}) cache.remember(token_expiring(now + 60s, sub), {sub, false, "jwt"});
  int kept = 0;
  for (const char* sub : {"a", "b", "c"}) kept += cache.find(token_expiring(now + 60s, sub), now) ? 1 : 0;
  EXPECT_LE(kept, 2);
  EXPECT_TRUE(cache.find(token_expiring(now + 60s, "c"), now)) << "the newest is kept";
}
