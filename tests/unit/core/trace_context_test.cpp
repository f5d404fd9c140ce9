#include "gateway/core/trace_context.h"

#include <gtest/gtest.h>

#include <set>

namespace xoev {
namespace {

constexpr const char* kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContext, AcceptsTheSpecExample) {
  EXPECT_TRUE(is_valid_traceparent(kValid));
  EXPECT_TRUE(is_valid_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"));
  EXPECT_EQ(traceparent_or_new(kValid), kValid) << "a valid traceparent is kept as the sender wrote it";
}

TEST(TraceContext, RefusesWhatTheSpecForbids) {
  for (const char* bad : {
           "",
           "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version other than 00
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version ff is invalid
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // trace id all zero
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // parent id all zero
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // uppercase
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",   // not hex
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",   // flags not hex
           "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",   // wrong separator
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // too long
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",    // too short
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902\r\nX: y",  // header injection, 55 chars
       }) {
    EXPECT_FALSE(is_valid_traceparent(bad)) << bad;
    const std::string replaced = traceparent_or_new(bad);
    EXPECT_TRUE(is_valid_traceparent(replaced)) << bad << " → " << replaced;
    EXPECT_NE(replaced, bad);
  }
}

TEST(TraceContext, NewTracesAreValidAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string t = new_traceparent();
    ASSERT_TRUE(is_valid_traceparent(t)) << t;
    EXPECT_EQ(t.substr(53), "01") << "sampled";
    seen.insert(t.substr(3, 32));
  }
  EXPECT_EQ(seen.size(), 1000u) << "trace ids are random";
}

}  // namespace
}  // namespace xoev
