// The API's security helpers: status details without server paths, the 401 challenge,
// and the token request forms of RFC 6749.
#include <gtest/gtest.h>

#include "gateway/api/api_security.h"
#include "gateway/api/token_request.h"
#include "gateway/core/text.h"

namespace xoev {
namespace {

TEST(ApiSecurity, StatusDetailsLoseServerPaths) {
  EXPECT_EQ(without_paths("cannot create /tmp/x/inbox/a.xml.tmp: Not a directory"), "cannot create …: Not a directory");
  EXPECT_EQ(without_paths("file '/var/lib/xoevgate/inbox/x.xml' exists"), "file '…' exists");
  EXPECT_EQ(without_paths("/srv/x"), "…");
  EXPECT_EQ(without_paths("HTTP 503 from https://host/a/b"), "HTTP 503 from https://host/a/b");
}

TEST(ApiSecurity, UnauthorizedCarriesABearerChallenge) {
  auto r = unauthorized_response(Problem::make(ProblemKind::unauthenticated, "bearer token: \"x\" has expired"), "/v1/messages");
  EXPECT_EQ(r.status, 401);
  std::string challenge;
  for (const auto& [name, value] : r.headers)
    if (name == "WWW-Authenticate") challenge = value;
  EXPECT_EQ(challenge.rfind("Bearer realm=\"xoevgate\", error=\"invalid_token\"", 0), 0u);
  EXPECT_EQ(challenge.find("\"x\""), std::string::npos);  // quotes in the detail cannot break the header
}

http::HttpRequest form(std::string body, std::string authorization = "") {
  http::HttpRequest r;
  r.method = "POST";
  r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  if (!authorization.empty()) r.headers.emplace_back("Authorization", authorization);
  r.body = std::move(body);
  return r;
}

TEST(TokenRequest, ClientSecretPostAndBasic) {
  auto post = parse_token_request(form("grant_type=client_credentials&client_id=a%2Bb&client_secret=s+3"));
  EXPECT_EQ(post.error, "");
  EXPECT_EQ(post.client_id, "a+b");
  EXPECT_EQ(post.client_secret, "s 3");
  EXPECT_FALSE(post.used_basic);
  auto basic = parse_token_request(form("grant_type=client_credentials", "Basic YTpzJTNBMQ=="));  // a:s%3A1
  EXPECT_EQ(basic.error, "");
  EXPECT_EQ(basic.client_id, "a");
  EXPECT_EQ(basic.client_secret, "s:1");
  EXPECT_TRUE(basic.used_basic);
  EXPECT_EQ(parse_token_request(form("grant_type=password&client_id=a&client_secret=b")).error, "unsupported_grant_type");
  EXPECT_EQ(parse_token_request(form("client_id=a&client_secret=b")).error, "invalid_request");
  EXPECT_EQ(parse_token_request(form("grant_type=client_credentials&client_id=a")).error, "invalid_client");
  EXPECT_EQ(parse_token_request(form("grant_type=client_credentials&client_id=a&client_id=b&client_secret=c")).error,
            "invalid_request");
  auto json = http::HttpRequest{};
  json.headers.emplace_back("Content-Type", "application/json");
  EXPECT_EQ(parse_token_request(json).error, "invalid_request");
}

}  // namespace
}  // namespace xoev
