#include "adapters/outbound/gateway/gateway_adapter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "gateway/delivery/hand_over.h"
#include "gateway/http/http_server.h"

using namespace xoev;

namespace {

const std::string kId = "6f1c6c0e-2c32-4c4e-9a51-1c0d1a3b9e01";

// A peer gateway on loopback whose answers the test chooses.
struct Peer {
  std::atomic<int> status{202};
  std::string body = R"({"messageId":")" + kId + R"(","destination":"inbox-b","status":"accepted"})";
  std::string retry_after;
  std::mutex mu;
  std::vector<http::HttpRequest> seen;
  std::unique_ptr<http::HttpServer> server;

  Peer() {
    http::HttpServer::Options o;
    o.listen = "127.0.0.1:0";
    auto s = http::HttpServer::start(o, [this](http::HttpRequest&& r, http::Responder respond) {
      http::HttpResponse resp;
      {
        std::lock_guard lock(mu);
        seen.push_back(r);
        resp.body = body;
      }
      resp.status = status;
      resp.headers.emplace_back("Content-Type", resp.status >= 400 ? "application/problem+json" : "application/json");
      if (!retry_after.empty()) resp.headers.emplace_back("Retry-After", retry_after);
      respond(std::move(resp));
    });
    EXPECT_TRUE(s.ok());
    server = std::move(s).value();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
  void answer(int code, std::string json) {
    std::lock_guard lock(mu);
    status = code;
    body = std::move(json);
  }
};

DeliveredMessage message() {
  DeliveredMessage m;
  m.message_id = kId;
  m.body = "<a>\xC3\xA4</a>";
  m.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  return m;
}

OutboundAdapterPtr adapter_for(const std::string& url) {
  GatewaySettings s;
  s.url = url;
  s.allow_plaintext = true;
  s.timeout = std::chrono::milliseconds(2000);
  auto a = make_gateway_adapter(s);
  EXPECT_TRUE(a.ok()) << (a ? "" : a.problem().one_line());
  return std::move(a).value();
}

}  // namespace

TEST(GatewayAdapter, PostsExactBytesWithTraceToV1Messages) {
  Peer p;
  auto a = adapter_for(p.url());
  auto out = a->deliver(message());
  ASSERT_TRUE(std::holds_alternative<Delivered>(out));
  const std::string detail = std::get<Delivered>(out).detail;
  EXPECT_NE(detail.find("127.0.0.1:" + std::to_string(p.server->port())), std::string::npos) << detail;
  EXPECT_NE(detail.find("inbox-b"), std::string::npos) << detail;
  ASSERT_EQ(p.seen.size(), 1u);
  EXPECT_EQ(p.seen[0].method, "POST");
  EXPECT_EQ(p.seen[0].path, "/v1/messages");
  EXPECT_EQ(p.seen[0].body, message().body);
  EXPECT_EQ(p.seen[0].header("content-type"), "application/xml");
  EXPECT_EQ(p.seen[0].header("traceparent"), message().traceparent);
}

TEST(GatewayAdapter, AlreadyAcceptedIsHandedOnToo) {
  Peer p;
  p.status = 200;
  auto out = adapter_for(p.url())->deliver(message());
  ASSERT_TRUE(std::holds_alternative<Delivered>(out));
  EXPECT_NE(std::get<Delivered>(out).detail.find("already"), std::string::npos);
}

TEST(GatewayAdapter, RefusalsAreRejectedWithThePeersReason) {
  Peer p;
  auto a = adapter_for(p.url());
  for (int code : {400, 403, 413, 415, 422}) {
    p.answer(code, R"({"type":"urn:xoevgate:problem:no-route","title":"No route","detail":"no route for xyz:0099"})");
    auto out = a->deliver(message());
    ASSERT_TRUE(std::holds_alternative<Reject>(out)) << code;
    const std::string detail = std::get<Reject>(out).problem.detail;
    EXPECT_NE(detail.find(std::to_string(code)), std::string::npos) << detail;
    EXPECT_NE(detail.find("no-route: no route for xyz:0099"), std::string::npos) << detail;
  }
}

TEST(GatewayAdapter, UnauthenticatedBusyAndDownAreRetried) {
  Peer p;
  auto a = adapter_for(p.url());
  for (int code : {401, 408, 500, 503}) {
    p.answer(code, "{}");
    EXPECT_TRUE(std::holds_alternative<Retry>(a->deliver(message()))) << code;
  }
  p.answer(429, "{}");
  p.retry_after = "7";
  auto out = a->deliver(message());
  ASSERT_TRUE(std::holds_alternative<Retry>(out));
  EXPECT_EQ(std::get<Retry>(out).after, std::chrono::seconds(7));
  const std::string url = p.url();
  p.server.reset();
  EXPECT_TRUE(std::holds_alternative<Retry>(adapter_for(url)->deliver(message())));
}

TEST(GatewayAdapter, AsksThePeerForTheFinalStatus) {
  Peer p;
  auto a = adapter_for(p.url());
  auto* hop = dynamic_cast<HandOver*>(a.get());
  ASSERT_NE(hop, nullptr);
  p.answer(200, R"({"messageId":")" + kId + R"(","destination":"inbox-b","status":"failed","detail":"disk full"})");
  auto s = hop->ask_status(kId);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->final_status.has_value());
  p.answer(404, R"({"title":"not found"})");
  s = hop->ask_status(kId);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->final_status.has_value());
  p.answer(200, R"({"messageId":")" + kId + R"(","destination":"inbox-b","status":"delivered","detail":"written"})");
  s = hop->ask_status(kId);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->final_status == ReceiptStatus::delivered);
  EXPECT_NE(s->detail.find("at peer gateway 127.0.0.1:"), std::string::npos) << s->detail;
  EXPECT_NE(s->detail.find("inbox-b"), std::string::npos) << s->detail;
  EXPECT_EQ(p.seen.back().method, "GET");
  EXPECT_EQ(p.seen.back().path, "/v1/messages/" + kId);
  p.answer(200, R"({"messageId":")" + kId + R"(","status":"dead-lettered"})");
  s = hop->ask_status(kId);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->final_status == ReceiptStatus::dead_lettered);
  p.answer(503, "{}");
  EXPECT_FALSE(hop->ask_status(kId).ok());
}
