// Secret hashes, send rights, rate limits and the submitter index.
#include <gtest/gtest.h>

#include "gateway/auth/rate_limiter.h"
#include "gateway/auth/secret_hash.h"
#include "gateway/auth/send_rights.h"
#include "gateway/auth/submitter_index.h"

namespace xoev::auth {
namespace {

TEST(SecretHash, MatchesOnlyTheSecretAndIsSalted) {
  auto a = hash_secret("correct horse battery staple", 10000);
  auto b = hash_secret("correct horse battery staple", 10000);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);  // fresh salt
  EXPECT_EQ(a->rfind("pbkdf2-sha256$10000$", 0), 0u);
  EXPECT_EQ(a->find("staple"), std::string::npos);
  EXPECT_TRUE(secret_matches("correct horse battery staple", *a));
  EXPECT_FALSE(secret_matches("correct horse battery stapl", *a));
  EXPECT_FALSE(secret_matches("", *a));
  EXPECT_FALSE(secret_matches("x", "pbkdf2-sha256$10000$short"));
  EXPECT_FALSE(secret_matches("x", "plain$x"));
  // Known answer, computed with Python's hashlib.pbkdf2_hmac("sha256", b"secret", b"salt-salt-salt-1", 10000).
  EXPECT_TRUE(secret_matches("secret", "pbkdf2-sha256$10000$c2FsdC1zYWx0LXNhbHQtMQ$"
                                       "x3xamc2jZIuYmjvsLgLLNKYb-eIa2l4d5fk6iQxMJA0"));
}

SenderSection sender() {
  SenderSection s;
  s.id = "dienst-a";
  s.may_send = {{"XBeteiligung", "04*", "xyz:*", {}}, {"XWasser", "*", "wasser:0001", {}}};
  s.may_speak_for = {"xyz:0001"};
  return s;
}

RoutingHeader header(std::string standard, std::string code, std::string reader, std::string author) {
  RoutingHeader h;
  h.standard = std::move(standard);
  h.message_type.code = std::move(code);
  h.reader = std::move(reader);
  h.author = std::move(author);
  return h;
}

TEST(SendRights, AllowsWhatARuleCoversAndNamesTheRefusingRule) {
  EXPECT_TRUE(check_may_send(sender(), header("XBeteiligung", "0401", "xyz:0002", "xyz:0001")));
  EXPECT_TRUE(check_may_send(sender(), header("XWasser", "2010", "wasser:0001", "xyz:0001")));
  auto reader = check_may_send(sender(), header("XBeteiligung", "0401", "abc:0002", "xyz:0001"));
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.problem().kind, ProblemKind::forbidden);
  EXPECT_NE(reader.problem().detail.find("may_send"), std::string::npos);
  EXPECT_FALSE(check_may_send(sender(), header("XBeteiligung", "0501", "xyz:0002", "xyz:0001")));
  EXPECT_FALSE(check_may_send(sender(), header("XWasser", "2010", "wasser:0002", "xyz:0001")));
  auto author = check_may_send(sender(), header("XBeteiligung", "0401", "xyz:0002", "xyz:0003"));
  ASSERT_FALSE(author);
  EXPECT_NE(author.problem().detail.find("may_speak_for"), std::string::npos);
  EXPECT_FALSE(check_may_send(sender(), header("XBeteiligung", "0401", "xyz:0002", "")));
  SenderSection nothing = sender();
  nothing.may_send.clear();
  EXPECT_FALSE(check_may_send(nothing, header("XBeteiligung", "0401", "xyz:0002", "xyz:0001")));
}

TEST(RateLimiter, RefillsAtTheRateAndSaysHowLongToWait) {
  RateLimiter limiter;
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter.take("a", 3, t0)) << i;  // burst of one second
  auto wait = limiter.take("a", 3, t0);
  ASSERT_TRUE(wait);
  EXPECT_EQ(wait->count(), 1);
  EXPECT_FALSE(limiter.take("b", 3, t0));  // per sender
  EXPECT_FALSE(limiter.take("a", 3, t0 + std::chrono::milliseconds(340)));
  EXPECT_TRUE(limiter.take("a", 3, t0 + std::chrono::milliseconds(400)));
  EXPECT_FALSE(limiter.take("a", 0, t0));  // unlimited
  // A long pause refills only up to the burst (one second's worth), not beyond.
  const auto later = t0 + std::chrono::hours(1);
  EXPECT_FALSE(limiter.take("a", 3, later));
  EXPECT_FALSE(limiter.take("a", 3, later));
  EXPECT_FALSE(limiter.take("a", 3, later));
  EXPECT_TRUE(limiter.take("a", 3, later));
  EXPECT_FALSE(limiter.take("slow", 0.1, t0));
  auto slow = limiter.take("slow", 0.1, t0);
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->count(), 10);
}

TEST(SubmitterIndex, FirstSubmitterOwnsAndOldEntriesGo) {
  SubmitterIndex index(2);
  index.remember("m1", "a");
  index.remember("m1", "b");
  EXPECT_EQ(index.submitter("m1"), "a");
  index.remember("m2", "b");
  index.remember("m3", "c");
  EXPECT_FALSE(index.submitter("m1"));
  EXPECT_EQ(index.submitter("m3"), "c");
}

}  // namespace
}  // namespace xoev::auth
