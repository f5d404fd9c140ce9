// HttpServer over real loopback TCP: keep-alive, asynchronous answers, limits,
// malformed input, disconnects, timeouts, concurrency, shutdown.
#include "gateway/http/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include <unistd.h>

#include "raw_connection.h"

using namespace std::chrono_literals;
using namespace xoev::http;
using xoev::http::test::RawConnection;
using xoev::http::test::RawResponse;

namespace {

// Answers with what it received, so tests can see the request as the handler did.
void echo(HttpRequest&& request, Responder respond) {
  respond(HttpResponse::json(200, {{"method", request.method},
                                   {"target", request.target},
                                   {"path", request.path},
                                   {"body", request.body},
                                   {"content_type", request.header("CONTENT-type")},
                                   {"remote", request.remote_address}}));
}

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

std::string post(std::string_view path, std::string_view body, std::string_view extra = "") {
  return "POST " + std::string(path) + " HTTP/1.1\r\nHost: test\r\nContent-Type: application/xml\r\n" +
         std::string(extra) + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

void expect_problem(const RawResponse& response, int status, const std::string& type) {
  EXPECT_EQ(response.status, status);
  EXPECT_EQ(response.header("Content-Type"), "application/problem+json");
  EXPECT_EQ(response.header("Content-Length"), std::to_string(response.body.size()));
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body.at("type"), type);
  EXPECT_EQ(body.at("status"), status);
}

// Waits for a condition that another thread makes true; bounded.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// A worker thread that answers queued requests once they are due (or released).
class DelayedAnswers {
 public:
  explicit DelayedAnswers(std::chrono::milliseconds delay, size_t release_after = 0)
      : delay_(delay), release_after_(release_after), worker_([this] { run(); }) {}
  ~DelayedAnswers() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    worker_.join();
  }

  void add(HttpRequest&& request, Responder respond) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back({std::chrono::steady_clock::now() + delay_, std::move(request.body), std::move(respond)});
      ++received_;
      max_waiting_ = std::max(max_waiting_, queue_.size());
    }
    wake_.notify_all();
  }
  size_t max_waiting() {
    std::lock_guard lock(mutex_);
    return max_waiting_;
  }

 private:
  struct Item {
    std::chrono::steady_clock::time_point due;
    std::string body;
    Responder respond;
  };
  void run() {
    std::unique_lock lock(mutex_);
    // With release_after, nothing is answered until that many requests wait at once
    // (or 30 s passed): proof that they really were all in flight together.
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    while (!done_) {
      const bool released = release_after_ == 0 || received_ >= release_after_ || std::chrono::steady_clock::now() > give_up;
      if (queue_.empty() || !released) {
        wake_.wait_for(lock, 20ms);
        continue;
      }
      if (queue_.front().due > std::chrono::steady_clock::now()) {
        wake_.wait_until(lock, queue_.front().due);
        continue;
      }
      Item item = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      item.respond(HttpResponse::json(200, {{"echo", item.body}}));
      lock.lock();
    }
  }

  std::chrono::milliseconds delay_;
  size_t release_after_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  size_t received_ = 0;
  size_t max_waiting_ = 0;
  bool done_ = false;
  std::thread worker_;
};

}  // namespace

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto server = start_server(loopback_options(), echo);
  ASSERT_TRUE(server);
  ASSERT_NE(server->port(), 0);
  RawConnection conn(server->port());
  ASSERT_TRUE(conn.connected());
  for (int i = 0; i < 3; ++i) {
    const std::string body = "<x n=\"" + std::to_string(i) + "\"/>";
    ASSERT_TRUE(conn.send(post("/v1/messages?trace=" + std::to_string(i), body)));
    auto response = conn.read_response();
    ASSERT_TRUE(response) << "request " << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->header("Content-Length"), std::to_string(response->body.size()));
    EXPECT_EQ(response->header("Content-Type"), "application/json");
    const auto json = nlohmann::json::parse(response->body);
    EXPECT_EQ(json["method"], "POST");
    EXPECT_EQ(json["target"], "/v1/messages?trace=" + std::to_string(i));
    EXPECT_EQ(json["path"], "/v1/messages");
    EXPECT_EQ(json["body"], body);
    EXPECT_EQ(json["content_type"], "application/xml");
    EXPECT_EQ(json["remote"], "127.0.0.1");
  }
  // Two pipelined requests in one write are answered in order.
  ASSERT_TRUE(conn.send(post("/a", "1") + post("/b", "2")));
  auto first = conn.read_response();
  auto second = conn.read_response();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(nlohmann::json::parse(first->body)["path"], "/a");
  EXPECT_EQ(nlohmann::json::parse(second->body)["path"], "/b");
}

TEST(HttpServer, ConnectionCloseIsHonoured) {
  auto server = start_server(loopback_options(), echo);
  ASSERT_TRUE(server);
  RawConnection conn(server->port());
  ASSERT_TRUE(conn.send("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  auto response = conn.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(conn.closed_by_peer());
}

TEST(HttpServer, HandlerAnsweringLaterFromAnotherThreadDoesNotBlockIoThread) {
  auto options = loopback_options();
  options.threads = 1;  // one I/O thread: a blocked one would stall the second request
  DelayedAnswers slow(800ms);
  auto server = start_server(options, [&](HttpRequest&& request, Responder respond) {
    if (request.path == "/slow") return slow.add(std::move(request), std::move(respond));
    echo(std::move(request), std::move(respond));
  });
  ASSERT_TRUE(server);
  RawConnection slow_conn(server->port());
  ASSERT_TRUE(slow_conn.send(post("/slow", "later")));
  std::this_thread::sleep_for(50ms);

  const auto start = std::chrono::steady_clock::now();
  RawConnection fast_conn(server->port());
  ASSERT_TRUE(fast_conn.send(post("/fast", "now")));
  auto fast = fast_conn.read_response();
  ASSERT_TRUE(fast);
  EXPECT_EQ(fast->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);

  auto later = slow_conn.read_response();
  ASSERT_TRUE(later);
  EXPECT_EQ(later->status, 200);
  EXPECT_EQ(nlohmann::json::parse(later->body)["echo"], "later");
}

TEST(HttpServer, ContentLengthOverLimitGets413WithoutReadingTheBody) {
  auto options = loopback_options();
  options.max_body_bytes = 1024;
  std::atomic<int> handled{0};
  auto server = start_server(options, [&](HttpRequest&& request, Responder respond) {
    ++handled;
    echo(std::move(request), std::move(respond));
  });
  ASSERT_TRUE(server);
  {
    RawConnection conn(server->port());
    // Only the header goes out: the answer must come without the server waiting for a body.
    ASSERT_TRUE(conn.send("POST /v1/messages HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n"));
    auto response = conn.read_response();
    ASSERT_TRUE(response);
    expect_problem(*response, 413, "urn:xoevgate:problem:payload-too-large");
    EXPECT_EQ(response->header("Connection"), "close");
    EXPECT_TRUE(conn.closed_by_peer());
  }
  {
    // A client that sends its body anyway still sees the 413 (no reset destroys it).
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.send(post("/v1/messages", std::string(200000, 'x'))));
    auto response = conn.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
  }
  RawConnection next(server->port());
  ASSERT_TRUE(next.send(post("/v1/messages", std::string(1024, 'y'))));  // exactly at the limit
  auto ok = next.read_response();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(handled.load(), 1);
}

TEST(HttpServer, ChunkedBodyOverLimitGets413) {
  auto options = loopback_options();
  options.max_body_bytes = 1000;
  std::atomic<int> handled{0};
  auto server = start_server(options, [&](HttpRequest&& request, Responder respond) {
    ++handled;
    echo(std::move(request), std::move(respond));
  });
  ASSERT_TRUE(server);
  {
    RawConnection conn(server->port());
    std::string request = "POST /v1/messages HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 5; ++i) request += "190\r\n" + std::string(400, 'c') + "\r\n";  // 5 × 400 bytes
    request += "0\r\n\r\n";
    ASSERT_TRUE(conn.send(request));
    auto response = conn.read_response();
    ASSERT_TRUE(response);
    expect_problem(*response, 413, "urn:xoevgate:problem:payload-too-large");
  }
  {
    // A chunked body within the limit arrives whole.
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.send("POST /v1/messages HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"));
    auto response = conn.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(nlohmann::json::parse(response->body)["body"], "abcdefg");
  }
  EXPECT_EQ(handled.load(), 1);
}

TEST(HttpServer, MalformedRequestsGet400AndAreClosed) {
  std::atomic<int> handled{0};
  auto server = start_server(loopback_options(), [&](HttpRequest&& request, Responder respond) {
    ++handled;
    echo(std::move(request), std::move(respond));
  });
  ASSERT_TRUE(server);
  const std::vector<std::string> broken = {
      "THIS IS NOT HTTP\r\n\r\n",
      "GET / HTTP/7.1\r\nHost: t\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: twelve\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Header Name: x\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
  };
  for (const auto& bytes : broken) {
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.send(bytes));
    auto response = conn.read_response();
    ASSERT_TRUE(response) << bytes.substr(0, 40);
    expect_problem(*response, 400, "urn:xoevgate:problem:bad-request");
    EXPECT_TRUE(conn.closed_by_peer());
  }
  EXPECT_EQ(handled.load(), 0);
  RawConnection good(server->port());
  ASSERT_TRUE(good.send(post("/", "fine")));
  auto response = good.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST(HttpServer, ClientDisconnectingMidBodyNeverReachesHandlerAndLeaksNothing) {
  std::atomic<int> handled{0};
  auto server = start_server(loopback_options(), [&](HttpRequest&& request, Responder respond) {
    ++handled;
    echo(std::move(request), std::move(respond));
  });
  ASSERT_TRUE(server);
  const int fds_before = test::open_fd_count();
  {
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.send(post("/", "x")));
    ASSERT_TRUE(conn.read_response());
  }
  for (int i = 0; i < 20; ++i) {
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.send("POST /v1/messages HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n<partial"));
  }  // closed mid-body
  EXPECT_TRUE(eventually([&] { return test::open_fd_count() <= fds_before; }))
      << "server sockets of dropped clients were not closed: " << test::open_fd_count() << " > " << fds_before;
  EXPECT_EQ(handled.load(), 1);
  RawConnection next(server->port());
  ASSERT_TRUE(next.send(post("/", "still here")));
  auto response = next.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST(HttpServer, SlowHeaderAndIdleConnectionsTimeOut) {
  auto options = loopback_options();
  options.read_timeout = 1s;
  options.idle_timeout = 1s;
  auto server = start_server(options, echo);
  ASSERT_TRUE(server);
  {
    // Slowloris: a header line every 300 ms never completes within the read timeout.
    RawConnection conn(server->port(), 5s);
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(conn.send("POST / HTTP/1.1\r\n"));
    bool cut_off = false;
    for (int i = 0; i < 15 && !cut_off; ++i) {
      std::this_thread::sleep_for(300ms);
      cut_off = !conn.send("X-Drip-" + std::to_string(i) + ": x\r\n");
    }
    EXPECT_TRUE(cut_off || conn.closed_by_peer());
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_GE(elapsed, 900ms);
    EXPECT_LT(elapsed, 4s);
  }
  {
    // A body that stalls is cut off as well.
    RawConnection conn(server->port(), 5s);
    ASSERT_TRUE(conn.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"));
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(conn.closed_by_peer());
    EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  }
  {
    // An idle keep-alive connection is closed after the idle timeout.
    RawConnection conn(server->port(), 5s);
    ASSERT_TRUE(conn.send(post("/", "x")));
    ASSERT_TRUE(conn.read_response());
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(conn.closed_by_peer());
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_GE(elapsed, 800ms);
    EXPECT_LT(elapsed, 4s);
  }
}

TEST(HttpServer, AThousandConcurrentConnectionsAllGetTheirAnswer) {
  constexpr size_t kClients = 1000;
  auto options = loopback_options();
  options.max_connections_per_address = kClients;  // all from 127.0.0.1
  DelayedAnswers worker(50ms, kClients);
  auto server = start_server(options, [&](HttpRequest&& request, Responder respond) {
    worker.add(std::move(request), std::move(respond));
  });
  ASSERT_TRUE(server);

  std::vector<std::unique_ptr<RawConnection>> clients;
  clients.reserve(kClients);
  for (size_t i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<RawConnection>(server->port(), 40s));
    ASSERT_TRUE(clients.back()->connected()) << "client " << i;
    ASSERT_TRUE(clients.back()->send(post("/v1/messages", "msg-" + std::to_string(i)))) << "client " << i;
  }
  size_t ok = 0;
  for (size_t i = 0; i < kClients; ++i) {
    auto response = clients[i]->read_response();
    if (response && response->status == 200 &&
        nlohmann::json::parse(response->body)["echo"] == "msg-" + std::to_string(i)) {
      ++ok;
    }
  }
  EXPECT_EQ(ok, kClients);
  EXPECT_EQ(worker.max_waiting(), kClients) << "the requests were not all in flight at once";
}

TEST(HttpServer, HandlerExceptionsAndForgottenAnswersBecome500) {
  auto server = start_server(loopback_options(), [](HttpRequest&& request, Responder respond) {
    if (request.path == "/throw") throw std::runtime_error("boom");
    if (request.path == "/forget") return;  // drops the Responder
    if (request.path == "/twice") {
      respond(HttpResponse::json(201, {{"first", true}}));
      respond(HttpResponse::json(500, {{"second", true}}));
      return;
    }
    HttpResponse answer;
    if (request.path == "/bad-status") {
      answer.status = 42;
      return respond(answer);
    }
    answer.status = 204;
    answer.content_type.clear();
    answer.body = "ignored";
    answer.headers = {{"X-Trace", "t1"}};
    respond(answer);
  });
  ASSERT_TRUE(server);
  RawConnection conn(server->port());
  for (const std::string path : {"/throw", "/forget", "/bad-status"}) {
    ASSERT_TRUE(conn.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto response = conn.read_response();
    ASSERT_TRUE(response) << path;
    expect_problem(*response, 500, "urn:xoevgate:problem:internal");
    EXPECT_EQ(nlohmann::json::parse(response->body)["instance"], path);
  }
  ASSERT_TRUE(conn.send("GET /twice HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto twice = conn.read_response();
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->status, 201);
  ASSERT_TRUE(conn.send("GET /empty HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto empty = conn.read_response();
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 204);
  EXPECT_EQ(empty->body, "");
  EXPECT_EQ(empty->header("X-Trace"), "t1");
}

TEST(HttpServer, ExpectContinueGetsAnInterimResponse) {
  auto server = start_server(loopback_options(), echo);
  ASSERT_TRUE(server);
  RawConnection conn(server->port());
  ASSERT_TRUE(conn.send("POST /v1/messages HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  auto interim = conn.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(conn.send("<a/>"));
  auto response = conn.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(nlohmann::json::parse(response->body)["body"], "<a/>");
}

TEST(HttpServer, StopLetsInFlightRequestsFinishAndClosesIdleOnes) {
  DelayedAnswers slow(300ms);
  auto server = start_server(loopback_options(), [&](HttpRequest&& request, Responder respond) {
    slow.add(std::move(request), std::move(respond));
  });
  ASSERT_TRUE(server);
  const auto port = server->port();
  RawConnection idle(port);
  ASSERT_TRUE(idle.connected());
  RawConnection busy(port);
  ASSERT_TRUE(busy.send(post("/", "in flight")));
  std::this_thread::sleep_for(50ms);
  const auto start = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  auto response = busy.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(idle.closed_by_peer());
  RawConnection after(port, 1s);
  EXPECT_FALSE(after.connected() && after.send(post("/", "x")) && after.read_response());
}

TEST(HttpServer, LateAnswerAfterServerIsGoneIsHarmless) {
  Responder kept;
  std::mutex mutex;
  auto options = loopback_options();
  options.stop_grace = 0s;
  auto server = start_server(options, [&](HttpRequest&&, Responder respond) {
    std::lock_guard lock(mutex);
    kept = std::move(respond);
  });
  ASSERT_TRUE(server);
  RawConnection conn(server->port());
  ASSERT_TRUE(conn.send(post("/", "x")));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return static_cast<bool>(kept);
  }));
  server.reset();
  std::lock_guard lock(mutex);
  kept(HttpResponse::json(200, {{"too", "late"}}));  // must neither crash nor block
  kept = nullptr;
  EXPECT_TRUE(conn.closed_by_peer());
}

TEST(HttpServer, BindErrorsAreProblems) {
  auto first = start_server(loopback_options(), echo);
  ASSERT_TRUE(first);
  auto options = loopback_options();
  options.listen = "127.0.0.1:" + std::to_string(first->port());
  auto second = HttpServer::start(options, echo);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.problem().kind, xoev::ProblemKind::io_error);
  EXPECT_NE(second.problem().detail.find("address already in use"), std::string::npos) << second.problem().detail;

  options.listen = "127.0.0.1";
  auto no_port = HttpServer::start(options, echo);
  ASSERT_FALSE(no_port);
  EXPECT_NE(no_port.problem().detail.find("no port"), std::string::npos);
  options.listen = "127.0.0.1:99999";
  EXPECT_FALSE(HttpServer::start(options, echo));
}

// An answer too large to hold (an XTA message): head bytes, a range of a file read a
// piece at a time, tail bytes; exact bytes and length, and the connection stays usable.
TEST(HttpServer, AnAnswerCanCarryAFileRangeBetweenItsHeadAndTail) {
  const auto file = std::filesystem::temp_directory_path() / ("xoev-file-range-" + std::to_string(::getpid()));
  std::string content;
  for (size_t i = 0; content.size() < 700 * 1024; ++i) content += "line " + std::to_string(i) + "\n";
  {
    std::ofstream out(file, std::ios::binary);
    out << "JUNK" << content << "MORE";
  }
  auto server = start_server(loopback_options(), [&](HttpRequest&& request, Responder respond) {
    if (request.path == "/short") {  // the file shrank after it was opened: cut off, not padded
      auto range = xoev::FileRange::open(file, 4, content.size());
      HttpResponse r{.status = 200, .content_type = "text/plain", .body = "<", .headers = {}, .body_file = *range,
                     .body_after = ">"};
      std::filesystem::resize_file(file, 4 + 300 * 1024);
      respond(std::move(r));
      return;
    }
    auto range = xoev::FileRange::open(file, 4, content.size());
    ASSERT_TRUE(range) << range.problem().one_line();
    respond(HttpResponse{.status = 200, .content_type = "text/plain", .body = "<head>", .headers = {},
                         .body_file = *range, .body_after = "<tail>"});
  });
  ASSERT_TRUE(server);
  RawConnection conn(server->port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(conn.send(post("/file", "")));
    auto response = conn.read_response();
    ASSERT_TRUE(response) << "request " << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->header("Content-Length"), std::to_string(content.size() + 12));
    EXPECT_TRUE(response->body == "<head>" + content + "<tail>") << response->body.size() << " bytes";
  }
  ASSERT_TRUE(conn.send(post("/short", "")));
  EXPECT_FALSE(conn.read_response());  // fewer bytes than announced, then closed
  EXPECT_FALSE(xoev::FileRange::open(file, 4, content.size()));  // a range beyond the end is refused
  std::filesystem::remove(file);
}
