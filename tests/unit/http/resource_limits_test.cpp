// The caps that bound what hostile clients can make the server hold (issue 15): header
// and chunk-extension length, body memory across connections, connections in total and
// per address, header timeout; and /healthz answering while a cap is reached.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "gateway/http/connection_limiter.h"
#include "gateway/http/fd_limit.h"
#include "gateway/http/http_server.h"
#include "gateway/http/memory_budget.h"
#include "raw_connection.h"

using namespace std::chrono_literals;
using namespace xoev::http;
using xoev::http::test::RawConnection;
using xoev::http::test::RawResponse;

namespace {

HttpServer::Options loopback_options() {
  HttpServer::Options options;
  options.listen = "127.0.0.1:0";
  options.threads = 2;
  return options;
}

std::unique_ptr<HttpServer> start_server(const HttpServer::Options& options, Handler handler) {
  auto server = HttpServer::start(options, std::move(handler));
  if (!server) ADD_FAILURE() << server.problem().one_line();
  return server ? std::move(server).value() : nullptr;
}

void answer_ok(HttpRequest&& request, Responder respond) {
  respond(HttpResponse::json(200, {{"path", request.path}, {"bytes", request.body.size()}}));
}

void expect_problem(const std::optional<RawResponse>& response, int status, const std::string& slug) {
  ASSERT_TRUE(response) << "no answer where " << status << " " << slug << " was expected";
  EXPECT_EQ(response->status, status);
  EXPECT_EQ(response->header("Content-Type"), "application/problem+json");
  const auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body.at("type"), "urn:xoevgate:problem:" + slug);
  EXPECT_EQ(body.at("status"), status);
}

std::optional<RawResponse> get_healthz(std::uint16_t port, const std::string& from = "") {
  RawConnection conn(port, 3s, from);
  if (!conn.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")) return std::nullopt;
  return conn.read_response();
}

// Holds every request except /healthz until released: bodies stay "in handling".
class HeldRequests {
 public:
  void add(HttpRequest&& request, Responder respond) {
    if (request.path == "/healthz") return respond(HttpResponse::json(200, {{"status", "ok"}}));
    std::lock_guard lock(mutex_);
    held_.push_back(std::move(respond));
  }
  size_t count() {
    std::lock_guard lock(mutex_);
    return held_.size();
  }
  void release_all() {
    std::vector<Responder> held;
    {
      std::lock_guard lock(mutex_);
      held.swap(held_);
    }
    for (auto& respond : held) respond(HttpResponse::json(200, {{"released", true}}));
  }

 private:
  std::mutex mutex_;
  std::vector<Responder> held_;
};

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

std::string post_header(size_t content_length) {
  return "POST /v1/messages HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(content_length) + "\r\n\r\n";
}

}  // namespace

TEST(ResourceLimits, HugeChunkExtensionIsRefusedQuicklyWithBoundedMemory) {
  auto server = start_server(loopback_options(), answer_ok);
  ASSERT_TRUE(server);
  const std::size_t rss_before = test::resident_bytes();
  RawConnection conn(server->port(), 3s);
  ASSERT_TRUE(conn.send("POST /v1/messages HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;ext="));
  // 64 MiB of one chunk extension, never ending in CRLF. Unbounded, the server buffers it all.
  const std::string piece(64 * 1024, 'e');
  for (int i = 0; i < 1024; ++i) {
    if (!conn.send(piece)) break;  // the server may stop reading: fine
  }
  const std::size_t rss_after = test::resident_bytes();
  expect_problem(conn.read_response(), 400, "bad-request");
  EXPECT_LT(rss_after, rss_before + (24u << 20)) << "RSS grew from " << rss_before << " to " << rss_after;
}

TEST(ResourceLimits, ChunkExtensionOverItsLimitIsA400EvenWhenItFitsTheBuffer) {
  auto options = loopback_options();
  options.max_chunk_extension_bytes = 100;
  auto server = start_server(options, answer_ok);
  ASSERT_TRUE(server);
  const std::string head = "POST /v1/messages HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  {
    RawConnection conn(server->port(), 3s);
    ASSERT_TRUE(conn.send(head + "5;" + std::string(200, 'x') + "\r\nhello\r\n0\r\n\r\n"));
    const auto response = conn.read_response();
    expect_problem(response, 400, "bad-request");
    EXPECT_NE(response->body.find("chunk extension exceeds 100 bytes"), std::string::npos) << response->body;
  }
  RawConnection conn(server->port(), 3s);
  ASSERT_TRUE(conn.send(head + "5;" + std::string(90, 'x') + "\r\nhello\r\n0\r\n\r\n"));
  const auto response = conn.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST(ResourceLimits, OversizeHeaderGets431) {
  auto options = loopback_options();
  options.max_header_bytes = 4096;  // below Beast's own default of 8 KiB
  auto server = start_server(options, answer_ok);
  ASSERT_TRUE(server);
  {
    RawConnection conn(server->port(), 3s);
    ASSERT_TRUE(conn.send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(5000, 'h') + "\r\n\r\n"));
    const auto response = conn.read_response();
    expect_problem(response, 431, "header-too-large");
    EXPECT_NE(response->body.find("4096"), std::string::npos);
    EXPECT_TRUE(conn.closed_by_peer());
  }
  RawConnection conn(server->port(), 3s);
  ASSERT_TRUE(conn.send("GET / HTTP/1.1\r\nHost: t\r\nX-Fits: " + std::string(3000, 'h') + "\r\n\r\n"));
  const auto response = conn.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST(ResourceLimits, ConnectionsPerAddressAreCappedWhileOtherAddressesAreServed) {
  auto options = loopback_options();
  options.max_connections_per_address = 3;
  HeldRequests held;
  auto server = start_server(options, [&](HttpRequest&& r, Responder respond) { held.add(std::move(r), std::move(respond)); });
  ASSERT_TRUE(server);
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<RawConnection>(server->port(), 3s, "127.0.0.1"));
    ASSERT_TRUE(idle.back()->connected());
  }
  {
    // Accepted in order, so the three above hold their places already.
    RawConnection fourth(server->port(), 3s, "127.0.0.1");
    const auto response = fourth.read_response();
    expect_problem(response, 503, "server-busy");
    EXPECT_EQ(response->header("Retry-After"), "2");
    EXPECT_TRUE(fourth.closed_by_peer());
  }
  const auto other = get_healthz(server->port(), "127.0.0.2");
  ASSERT_TRUE(other) << "another client address must still be served";
  EXPECT_EQ(other->status, 200);

  idle.pop_back();  // a place frees up
  EXPECT_TRUE(eventually([&] {
    const auto again = get_healthz(server->port(), "127.0.0.1");
    return again && again->status == 200;
  }));
}

TEST(ResourceLimits, TotalConnectionsAreCappedWhenNoneIsIdle) {
  auto options = loopback_options();
  options.max_connections = 4;
  HeldRequests held;
  auto server = start_server(options, [&](HttpRequest&& r, Responder respond) { held.add(std::move(r), std::move(respond)); });
  ASSERT_TRUE(server);
  std::vector<std::unique_ptr<RawConnection>> busy;
  for (int i = 0; i < 4; ++i) {
    busy.push_back(std::make_unique<RawConnection>(server->port(), 3s, "127.0.0." + std::to_string(i + 1)));
    ASSERT_TRUE(busy.back()->send("GET /held HTTP/1.1\r\nHost: t\r\n\r\n"));
  }
  ASSERT_TRUE(eventually([&] { return held.count() == 4; }));
  RawConnection fifth(server->port(), 3s, "127.0.0.9");
  const auto response = fifth.read_response();
  expect_problem(response, 503, "server-busy");
  EXPECT_NE(response->body.find("maximum of 4 connections"), std::string::npos) << response->body;
  held.release_all();
}

// Idle keep-alive (or never used) connections must not lock out a client with work:
// a full server closes the one idle longest and serves the newcomer; busy ones and
// more recently idle ones stay.
TEST(ResourceLimits, AFullServerClosesTheLongestIdleConnectionForANewClient) {
  auto options = loopback_options();
  options.max_connections = 4;
  HeldRequests held;
  auto server = start_server(options, [&](HttpRequest&& r, Responder respond) { held.add(std::move(r), std::move(respond)); });
  ASSERT_TRUE(server);
  const std::string healthz = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
  RawConnection oldest_idle(server->port(), 3s, "127.0.0.1");
  ASSERT_TRUE(oldest_idle.send(healthz));
  ASSERT_TRUE(oldest_idle.read_response());  // answered, now waiting (keep-alive)
  std::this_thread::sleep_for(20ms);
  RawConnection newer_idle(server->port(), 3s, "127.0.0.2");
  ASSERT_TRUE(newer_idle.send(healthz));
  ASSERT_TRUE(newer_idle.read_response());
  std::vector<std::unique_ptr<RawConnection>> busy;
  for (int i = 0; i < 2; ++i) {
    busy.push_back(std::make_unique<RawConnection>(server->port(), 3s, "127.0.0." + std::to_string(i + 3)));
    ASSERT_TRUE(busy.back()->send("GET /held HTTP/1.1\r\nHost: t\r\n\r\n"));
  }
  ASSERT_TRUE(eventually([&] { return held.count() == 2; }));

  const auto newcomer = get_healthz(server->port(), "127.0.0.9");
  ASSERT_TRUE(newcomer) << "the full server must make room by closing an idle connection";
  EXPECT_EQ(newcomer->status, 200);
  EXPECT_TRUE(oldest_idle.closed_by_peer());
  ASSERT_TRUE(newer_idle.send(healthz));
  const auto still = newer_idle.read_response();
  ASSERT_TRUE(still) << "only the longest idle connection is closed";
  EXPECT_EQ(still->status, 200);
  held.release_all();
  for (auto& conn : busy) {
    const auto answer = conn->read_response();
    ASSERT_TRUE(answer) << "a busy connection was closed";
    EXPECT_EQ(answer->status, 200);
  }
}

TEST(ResourceLimits, ConnectionCapLeavesReservedDescriptorsFree) {
  EXPECT_EQ(connection_capacity(20000, 10000, 25, 256), 10000u);
  EXPECT_EQ(connection_capacity(20000, 100000, 25, 256), 15000u);  // 25 % kept free
  EXPECT_EQ(connection_capacity(1024, 10000, 25, 256), 768u);      // the fixed reserve is larger
  EXPECT_EQ(connection_capacity(200, 10000, 25, 256), 100u);       // tiny limits: half
  EXPECT_EQ(connection_capacity(0, 10000, 25, 256), 10000u);       // limit unknown
}

TEST(ResourceLimits, HeaderDrippedSlowlyIsCutOffByTheHeaderTimeout) {
  auto options = loopback_options();
  options.header_timeout = 1s;
  options.read_timeout = 20s;
  auto server = start_server(options, answer_ok);
  ASSERT_TRUE(server);
  RawConnection conn(server->port(), 8s);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(conn.send("POST / HTTP/1.1\r\n"));
  bool cut_off = false;
  for (int i = 0; i < 20 && !cut_off; ++i) {
    std::this_thread::sleep_for(200ms);
    cut_off = !conn.send("X-Drip-" + std::to_string(i) + ": x\r\n");
  }
  EXPECT_TRUE(cut_off || conn.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(ResourceLimits, BodyMemoryCapGives503WithRetryAfterAndHealthzStillAnswers) {
  auto options = loopback_options();
  options.max_body_bytes = 512 << 10;
  options.max_buffered_bytes = 1 << 20;
  HeldRequests held;
  auto server = start_server(options, [&](HttpRequest&& r, Responder respond) { held.add(std::move(r), std::move(respond)); });
  ASSERT_TRUE(server);
  const std::string body(400 << 10, 'b');
  RawConnection first(server->port(), 5s);
  RawConnection second(server->port(), 5s);
  ASSERT_TRUE(first.send(post_header(body.size()) + body));
  ASSERT_TRUE(second.send(post_header(body.size()) + body));
  ASSERT_TRUE(eventually([&] { return held.count() == 2; }));  // 800 KiB held by the handler

  {
    // Refused as soon as the header announces a body that does not fit.
    RawConnection third(server->port(), 5s);
    ASSERT_TRUE(third.send(post_header(body.size())));
    const auto response = third.read_response();
    SCOPED_TRACE("announced by Content-Length");
    expect_problem(response, 503, "server-busy");
    EXPECT_EQ(response->header("Retry-After"), "2");
  }
  {
    // A chunked body is refused once it grows past what is left.
    RawConnection chunked(server->port(), 5s);
    ASSERT_TRUE(chunked.send("POST /v1/messages HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"));
    const std::string chunk = "8000\r\n" + std::string(0x8000, 'c') + "\r\n";
    for (int i = 0; i < 12; ++i) {
      if (!chunked.send(chunk)) break;
    }
    SCOPED_TRACE("chunked");
    expect_problem(chunked.read_response(), 503, "server-busy");
  }
  const auto health = get_healthz(server->port());
  ASSERT_TRUE(health) << "/healthz must answer while the body memory is exhausted";
  EXPECT_EQ(health->status, 200);

  held.release_all();
  ASSERT_TRUE(first.read_response());
  ASSERT_TRUE(second.read_response());
  RawConnection retry(server->port(), 5s);
  ASSERT_TRUE(retry.send(post_header(body.size()) + body));
  ASSERT_TRUE(eventually([&] { return held.count() == 1; })) << "after the answers the memory is free again";
  held.release_all();
  const auto response = retry.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST(ResourceLimits, MemoryBudgetAndConnectionLimiterAccounting) {
  MemoryBudget budget(100);
  {
    BudgetShare a(budget);
    BudgetShare b(budget);
    EXPECT_TRUE(a.resize(60));
    EXPECT_FALSE(b.resize(41));
    EXPECT_EQ(b.held(), 0u);
    EXPECT_TRUE(b.resize(40));
    EXPECT_TRUE(a.resize(10));
    EXPECT_EQ(budget.in_use(), 50u);
  }
  EXPECT_EQ(budget.in_use(), 0u);
  EXPECT_FALSE(budget.try_take(101));

  ConnectionLimiter limiter(3, 2);
  auto t1 = limiter.try_admit("a");
  auto t2 = limiter.try_admit("a");
  EXPECT_TRUE(t1 && t2);
  EXPECT_FALSE(limiter.try_admit("a"));
  auto t3 = limiter.try_admit("b");
  EXPECT_TRUE(t3);
  EXPECT_FALSE(limiter.try_admit("c"));  // total reached
  t1.reset();
  EXPECT_TRUE(limiter.try_admit("c"));  // (and released again at once)
  EXPECT_EQ(limiter.open_connections(), 2u);

  namespace ip = boost::asio::ip;
  EXPECT_EQ(client_key(ip::make_address("192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(client_key(ip::make_address("::ffff:192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(client_key(ip::make_address("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
  EXPECT_EQ(client_key(ip::make_address("2001:db8:1:2:ffff::1")), "2001:db8:1:2::/64");
}
