#include "adapters/outbound/http/http_adapter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <thread>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "gateway/http/http_server.h"

using namespace xoev;

namespace {

// A Fachverfahren on loopback that answers with a status chosen by the test.
struct Target {
  std::atomic<int> status{200};
  std::string retry_after;
  std::mutex mu;
  std::vector<http::HttpRequest> seen;
  std::unique_ptr<http::HttpServer> server;

  Target() {
    http::HttpServer::Options o;
    o.listen = "127.0.0.1:0";
    auto s = http::HttpServer::start(o, [this](http::HttpRequest&& r, http::Responder respond) {
      {
        std::lock_guard lock(mu);
        seen.push_back(r);
      }
      http::HttpResponse resp;
      resp.status = status;
      resp.body = "{}";
      if (!retry_after.empty()) resp.headers.emplace_back("Retry-After", retry_after);
      respond(std::move(resp));
    });
    EXPECT_TRUE(s.ok());
    server = std::move(s).value();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()) + "/inbox"; }
};

DeliveredMessage message() {
  DeliveredMessage m;
  m.message_id = "6f1c6c0e-2c32-4c4e-9a51-1c0d1a3b9e01";
  m.message_type = "2010";
  m.body = "<a>\xC3\xA4</a>";
  m.attempt = 2;
  return m;
}

OutboundAdapterPtr adapter_for(const std::string& url, const std::string& secret_file = "") {
  HttpSettings c;
  c.url = url;
  c.timeout = std::chrono::milliseconds(2000);
  if (!secret_file.empty()) c.hmac_secret_file = secret_file;
  auto a = make_http_adapter(c);
  EXPECT_TRUE(a.ok()) << (a ? "" : a.problem().one_line());
  return std::move(a).value();
}

}  // namespace

TEST(HttpAdapter, PostsExactBytesWithIdempotencyKey) {
  Target t;
  auto out = adapter_for(t.url())->deliver(message());
  ASSERT_TRUE(std::holds_alternative<Delivered>(out));
  ASSERT_EQ(t.seen.size(), 1u);
  EXPECT_EQ(t.seen[0].method, "POST");
  EXPECT_EQ(t.seen[0].path, "/inbox");
  EXPECT_EQ(t.seen[0].body, message().body);
  EXPECT_EQ(t.seen[0].header("idempotency-key"), message().message_id);
  EXPECT_EQ(t.seen[0].header("content-type"), "application/xml");
  EXPECT_EQ(t.seen[0].header("x-xoev-attempt"), "2");
}

TEST(HttpAdapter, ServerErrorsAreRetriedClientErrorsRejected) {
  Target t;
  auto a = adapter_for(t.url());
  t.status = 503;
  EXPECT_TRUE(std::holds_alternative<Retry>(a->deliver(message())));
  t.status = 429;
  t.retry_after = "7";
  auto out = a->deliver(message());
  ASSERT_TRUE(std::holds_alternative<Retry>(out));
  EXPECT_EQ(std::get<Retry>(out).after, std::chrono::seconds(7));
  t.retry_after.clear();
  t.status = 422;
  out = a->deliver(message());
  ASSERT_TRUE(std::holds_alternative<Reject>(out));
  EXPECT_NE(std::get<Reject>(out).problem.detail.find("HTTP 422"), std::string::npos);
}

TEST(HttpAdapter, RefusedConnectionIsRetried) {
  // A port nobody listens on: bind, learn the port, close.
  std::string url;
  {
    Target t;
    url = t.url();
    t.server->stop();
  }
  auto out = adapter_for(url)->deliver(message());
  ASSERT_TRUE(std::holds_alternative<Retry>(out));
  EXPECT_FALSE(std::get<Retry>(out).reason.empty());
}

TEST(HttpAdapter, SignsWithHmacOverTimestampAndBody) {
  Target t;
  const std::string file = "/tmp/xoev-hmac-" + std::to_string(::getpid());
  std::ofstream(file) << "0123456789abcdef0123456789abcdef\n";
  ASSERT_TRUE(std::holds_alternative<Delivered>(adapter_for(t.url(), file)->deliver(message())));
  ::unlink(file.c_str());
  const std::string sig = t.seen.at(0).header("x-xoev-signature");
  ASSERT_EQ(sig.rfind("t=", 0), 0u);
  const auto comma = sig.find(',');
  const int64_t ts = std::stoll(sig.substr(2, comma - 2));
  EXPECT_EQ(sig, hmac_signature("0123456789abcdef0123456789abcdef", ts, message().body));
  EXPECT_NE(sig, hmac_signature("another secret of enough length", ts, message().body));
}

TEST(HttpAdapter, HmacMatchesKnownVector) {
  // HMAC-SHA256("Jefe", "0.what do ya want for nothing?"), the value
  // computed independently with `openssl dgst -sha256 -hmac Jefe`.
  EXPECT_EQ(hmac_signature("Jefe", 0, "what do ya want for nothing?"),
            "t=0,v1=" + std::string("37f471929915ccd2cbbe79feb84ffcff4f2bb25e15fc41c2506687331ae179cc"));
}

// Every 5xx is the target's trouble, not the message's: a retry may cure it. Each
// status is paired with the outcome a Fachverfahren owner expects, so a mapping
// that only knows 503 (or treats 500 as a refusal) fails here.
TEST(HttpAdapter, EachStatusMapsToItsOutcome) {
  Target t;
  auto a = adapter_for(t.url());
  enum class Want { delivered, retry, reject };
  const std::vector<std::pair<int, Want>> cases = {
      {200, Want::delivered}, {201, Want::delivered}, {202, Want::delivered}, {204, Want::delivered},
      {299, Want::delivered}, {500, Want::retry},     {501, Want::retry},     {502, Want::retry},
      {504, Want::retry},     {599, Want::retry},     {408, Want::retry},     {429, Want::retry},
      {300, Want::reject},    {400, Want::reject},    {401, Want::reject},    {403, Want::reject},
      {404, Want::reject},    {409, Want::reject},    {413, Want::reject},    {499, Want::reject}};
  for (const auto& [status, want] : cases) {
    t.status = status;
    const auto out = a->deliver(message());
    switch (want) {
      case Want::delivered:
        EXPECT_TRUE(std::holds_alternative<Delivered>(out)) << "HTTP " << status << " should count as delivered";
        break;
      case Want::retry:
        EXPECT_TRUE(std::holds_alternative<Retry>(out)) << "HTTP " << status << " should be retried";
        if (const auto* r = std::get_if<Retry>(&out)) {
          EXPECT_NE(r->reason.find("HTTP " + std::to_string(status)), std::string::npos) << r->reason;
          EXPECT_EQ(r->after.count(), 0) << "no Retry-After header: the destination's backoff decides";
        }
        break;
      case Want::reject:
        EXPECT_TRUE(std::holds_alternative<Reject>(out)) << "HTTP " << status << " should be rejected";
        if (const auto* r = std::get_if<Reject>(&out)) {
          EXPECT_EQ(r->problem.kind, ProblemKind::rejected);
        }
        break;
    }
  }
  EXPECT_EQ(t.seen.size(), cases.size()) << "one POST per delivery, the loop owns retries";
}

TEST(HttpAdapter, RetryAfterOnAServerErrorIsHonoured) {
  Target t;
  auto a = adapter_for(t.url());
  t.status = 500;
  t.retry_after = "3";
  auto out = a->deliver(message());
  ASSERT_TRUE(std::holds_alternative<Retry>(out));
  EXPECT_EQ(std::get<Retry>(out).after, std::chrono::seconds(3));
  t.retry_after = "soon";  // not delta-seconds: the destination's backoff decides
  out = a->deliver(message());
  ASSERT_TRUE(std::holds_alternative<Retry>(out));
  EXPECT_EQ(std::get<Retry>(out).after.count(), 0);
}

// A large (chunked) message arrives as a file: sent from it, never read whole, with the
// same bytes and the same HMAC as if it had been in memory.
TEST(HttpAdapter, ALargeMessageIsSentFromItsFileWithTheSameSignature) {
  Target t;
  const std::string dir = "/tmp/xoev-http-file-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string secret = dir + "/secret";
  std::ofstream(secret) << "0123456789abcdef0123456789abcdef\n";
  std::string bytes = "<akte>";
  for (int i = 0; i < 300000; ++i) bytes += static_cast<char>('a' + i % 26);
  bytes += "</akte>";
  DeliveredMessage m = message();
  m.body.clear();
  m.body_file = dir + "/message.part";
  m.body_size = bytes.size();
  std::ofstream(m.body_file, std::ios::binary) << bytes;
  auto a = adapter_for(t.url(), secret);
  EXPECT_TRUE(a->streams_files());
  ASSERT_TRUE(std::holds_alternative<Delivered>(a->deliver(m)));
  std::filesystem::remove_all(dir);
  ASSERT_EQ(t.seen.size(), 1u);
  EXPECT_EQ(t.seen[0].body, bytes);
  EXPECT_EQ(t.seen[0].header("content-length"), std::to_string(bytes.size()));
  const std::string sig = t.seen[0].header("x-xoev-signature");
  const int64_t ts = std::stoll(sig.substr(2, sig.find(',') - 2));
  EXPECT_EQ(sig, hmac_signature("0123456789abcdef0123456789abcdef", ts, bytes));
}

namespace {

// A target that holds requests until `hold_for` of them are waiting at once, counting
// the most it held together, and refuses one chosen id with 503.
struct SlowTarget {
  std::mutex mu;
  std::condition_variable cv;
  int holding = 0;
  int most_at_once = 0;
  int hold_for = 3;
  bool released = false;  // a full set is leaving; late arrivals of it are not held
  std::vector<std::string> ids;
  std::string refuse_id;
  std::unique_ptr<http::HttpServer> server;

  SlowTarget() {
    http::HttpServer::Options o;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    auto s = http::HttpServer::start(o, [this](http::HttpRequest&& r, http::Responder respond) {
      // Answered from a thread of its own, so the server's I/O threads take the others meanwhile.
      std::thread([this, r = std::move(r), respond]() mutable {
        const std::string id = r.header("idempotency-key");
        {
          std::unique_lock lock(mu);
          ids.push_back(id);
          most_at_once = std::max(most_at_once, ++holding);
          // Held until `hold_for` are held at once (or 2 s): then released together.
          if (holding >= hold_for) cv.notify_all();
          cv.wait_for(lock, std::chrono::seconds(2), [&] { return holding >= hold_for || released; });
          released = true;
          if (--holding == 0) released = false;
        }
        http::HttpResponse resp;
        resp.status = id == refuse_id ? 503 : 200;
        resp.body = "{}";
        respond(std::move(resp));
      }).detach();
    });
    EXPECT_TRUE(s.ok());
    server = std::move(s).value();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()) + "/inbox"; }
};

std::vector<DeliveredMessage> messages(size_t n) {
  std::vector<DeliveredMessage> out;
  for (size_t i = 0; i < n; ++i) {
    DeliveredMessage m = message();
    m.message_id = "msg-" + std::to_string(i);
    out.push_back(m);
  }
  return out;
}

}  // namespace

// Issue 13: with max_in_flight N a consumed group goes out N requests at a time, never
// more, and each message gets its own outcome (a refused one does not hold back the
// others, which are then not sent again). With the default 1 the adapter takes no groups.
TEST(HttpAdapter, MaxInFlightSendsAGroupConcurrentlyWithAnOutcomeForEach) {
  SlowTarget t;
  t.refuse_id = "msg-2";
  HttpSettings c;
  c.url = t.url();
  c.max_in_flight = 3;
  auto adapter = std::move(make_http_adapter(c)).value();
  EXPECT_TRUE(adapter->delivers_groups());
  const auto group = messages(6);
  std::vector<const DeliveredMessage*> pointers;
  for (const auto& m : group) pointers.push_back(&m);
  const auto outcomes = adapter->deliver_group(pointers);
  ASSERT_EQ(outcomes.size(), group.size());
  for (size_t i = 0; i < outcomes.size(); ++i)
    EXPECT_EQ(i == 2 ? std::holds_alternative<Retry>(outcomes[i]) : std::holds_alternative<Delivered>(outcomes[i]), true)
        << "message " << i;
  std::lock_guard lock(t.mu);
  EXPECT_EQ(t.ids.size(), group.size());  // each sent once
  EXPECT_EQ(t.most_at_once, 3);

  c.max_in_flight = 1;
  EXPECT_FALSE(std::move(make_http_adapter(c)).value()->delivers_groups());
}
