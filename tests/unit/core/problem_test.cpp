#include "gateway/core/problem.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

using namespace xoev;

TEST(Problem, MapsKindsToHttpStatusAndTypeUri) {
  EXPECT_EQ(Problem::make(ProblemKind::no_route, "x").http_status(), 422);
  EXPECT_EQ(Problem::make(ProblemKind::no_route, "x").type_uri(), "urn:xoevgate:problem:no-route");
  EXPECT_EQ(Problem::make(ProblemKind::broker_unavailable, "x").http_status(), 503);
  EXPECT_EQ(Problem::make(ProblemKind::payload_too_large, "x").http_status(), 413);
  EXPECT_EQ(Problem::make(ProblemKind::config_invalid, "x").exit_code(), 2);
  EXPECT_EQ(Problem::make(ProblemKind::schema_invalid, "x").exit_code(), 1);
}

TEST(Problem, JsonCarriesLocationAndErrors) {
  Problem p = Problem::make(ProblemKind::malformed_xml, "bad").at({"", 3, 7});
  p.errors.push_back({3, 7, "/a/b", "oops"});
  const auto j = p.to_json();
  EXPECT_EQ(j["status"], 400);
  EXPECT_EQ(j["line"], 3);
  EXPECT_EQ(j["column"], 7);
  EXPECT_EQ(j["errors"][0]["element"], "/a/b");
  EXPECT_EQ(p.one_line(), "3:7: The body is not well-formed XML: bad");
}

// A retry can cure these (503), not those (4xx): senders act on the difference.
TEST(Problem, OnlyWhatARetryCanCureIs503) {
  EXPECT_EQ(Problem::make(ProblemKind::backlog_full, "x").http_status(), 503);
  EXPECT_EQ(Problem::make(ProblemKind::broker_unavailable, "x").http_status(), 503);
  EXPECT_EQ(Problem::make(ProblemKind::too_many_requests, "x").http_status(), 429);
  EXPECT_EQ(Problem::make(ProblemKind::payload_too_large, "x").http_status(), 413);
  EXPECT_EQ(Problem::make(ProblemKind::rejected, "x").http_status(), 422);
}
