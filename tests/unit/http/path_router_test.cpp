#include "gateway/http/path_router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>

using namespace xoev::http;

namespace {

Handler named(std::string name) {
  return [name](HttpRequest&&, Responder respond) { respond(HttpResponse::json(200, {{"route", name}})); };
}

HttpResponse route(const PathRouter& router, std::string method, std::string path) {
  std::optional<HttpResponse> answer;
  HttpRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  router(std::move(request), [&](HttpResponse r) { answer = std::move(r); });
  EXPECT_TRUE(answer.has_value());
  return answer.value_or(HttpResponse{});
}

std::string chosen(const HttpResponse& r) { return nlohmann::json::parse(r.body).value("route", ""); }

}  // namespace

TEST(PathRouter, PrefixesMatchWholeSegmentsAndTheLongestWins) {
  PathRouter router;
  router.add("POST", "/v1/messages", named("submit"))
      .add("GET", "/v1/messages", named("status"))
      .add("GET", "/v1/messages/special", named("special"))
      .add("GET", "/healthz", named("health"));
  EXPECT_EQ(chosen(route(router, "POST", "/v1/messages")), "submit");
  EXPECT_EQ(chosen(route(router, "GET", "/v1/messages/abc")), "status");
  EXPECT_EQ(chosen(route(router, "GET", "/v1/messages/special/x")), "special");
  EXPECT_EQ(chosen(route(router, "GET", "/healthz")), "health");

  auto not_found = route(router, "GET", "/v1/messagesX");
  EXPECT_EQ(not_found.status, 404);
  EXPECT_EQ(not_found.content_type, "application/problem+json");
  EXPECT_EQ(nlohmann::json::parse(not_found.body)["instance"], "/v1/messagesX");

  auto wrong_method = route(router, "DELETE", "/v1/messages/abc");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(header_value(wrong_method.headers, "allow"), "POST, GET");
  EXPECT_EQ(nlohmann::json::parse(wrong_method.body)["type"], "urn:xoevgate:problem:method-not-allowed");
}

TEST(PathRouter, PathPrefixRule) {
  EXPECT_TRUE(path_has_prefix("/a/b", "/a"));
  EXPECT_TRUE(path_has_prefix("/a", "/a"));
  EXPECT_TRUE(path_has_prefix("/a/b", "/a/"));
  EXPECT_FALSE(path_has_prefix("/ab", "/a"));
  EXPECT_TRUE(path_has_prefix("/anything", "/"));
}

TEST(HttpResponseTypes, ProblemBodyFollowsRfc9457) {
  auto problem = xoev::Problem::make(xoev::ProblemKind::payload_too_large, "too big \xff");  // invalid UTF-8 survives
  auto response = HttpResponse::problem(problem, "/v1/messages");
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.content_type, "application/problem+json");
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["type"], "urn:xoevgate:problem:payload-too-large");
  EXPECT_EQ(body["status"], 413);
  EXPECT_EQ(body["instance"], "/v1/messages");
  EXPECT_TRUE(body.contains("title"));
}

TEST(HttpRequestTypes, HeaderLookupIgnoresCaseAndPathDropsQuery) {
  HttpRequest request;
  request.headers = {{"Content-Type", "application/xml"}, {"X-A", "1"}, {"x-a", "2"}};
  EXPECT_EQ(request.header("content-type"), "application/xml");
  EXPECT_EQ(request.header("X-A"), "1");
  EXPECT_EQ(request.header("missing"), "");
  EXPECT_EQ(path_of("/v1/messages/x?y=1#z"), "/v1/messages/x");
  EXPECT_EQ(path_of("/"), "/");
}
