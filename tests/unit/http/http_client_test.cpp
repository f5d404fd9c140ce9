// HttpClient against real peers: our HttpServer over http, a mutual-TLS server with a
// throwaway PKI, a closed port, and a peer that never answers.
#include "gateway/http/http_client.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <thread>
#include <unistd.h>

#include "gateway/http/http_server.h"
#include "gateway/http/tls_context_source.h"
#include "test_pki.h"
#include "tls_test_server.h"

using namespace std::chrono_literals;
using namespace xoev::http;
using xoev::ProblemKind;

namespace {

std::unique_ptr<HttpServer> echo_server() {
  HttpServer::Options options;
  options.listen = "127.0.0.1:0";
  auto server = HttpServer::start(options, [](HttpRequest&& request, Responder respond) {
    if (request.path == "/missing") {
      return respond(HttpResponse::problem(xoev::Problem::make(ProblemKind::not_found, "nothing"), request.path));
    }
    if (request.path == "/big") {
      HttpResponse big;
      big.content_type = "text/plain";
      big.body = std::string(100000, 'b');
      return respond(std::move(big));
    }
    auto answer = HttpResponse::json(201, {{"method", request.method},
                                           {"target", request.target},
                                           {"body", request.body},
                                           {"x_test", request.header("x-test")},
                                           {"host", request.header("host")}});
    answer.headers.emplace_back("X-Answer", "yes");
    respond(std::move(answer));
  });
  if (!server) ADD_FAILURE() << server.problem().one_line();
  return server ? std::move(server).value() : nullptr;
}

// GCC 12 warns about designated initializers that leave members out; these spell them.
HttpClientRequest get(std::string url) {
  HttpClientRequest request;
  request.url = std::move(url);
  return request;
}

HttpClientRequest post(std::string url, std::string body, HeaderList headers = {}) {
  HttpClientRequest request;
  request.method = "POST";
  request.url = std::move(url);
  request.body = std::move(body);
  request.headers = std::move(headers);
  return request;
}

HttpClient::Options tls_options(std::string ca, std::string cert = "", std::string key = "") {
  HttpClient::Options options;
  options.ca_file = std::move(ca);
  options.client_certificate = std::move(cert);
  options.client_key = std::move(key);
  return options;
}

HttpClient make_client(HttpClient::Options options = {}) {
  auto client = HttpClient::create(options);
  if (!client) ADD_FAILURE() << client.problem().one_line();
  return std::move(client).value();
}

void expect_io_error(const xoev::Result<HttpClientResponse>& result, std::string_view fragment) {
  ASSERT_FALSE(result) << "got status " << result->status;
  EXPECT_EQ(result.problem().kind, ProblemKind::io_error);
  EXPECT_NE(result.problem().detail.find(fragment), std::string::npos) << result.problem().detail;
}

}  // namespace

TEST(HttpClient, ExchangesWithOurServerOverHttp) {
  auto server = echo_server();
  ASSERT_TRUE(server);
  const auto client = make_client();
  const std::string base = "http://127.0.0.1:" + std::to_string(server->port());

  auto result = client.send(post(base + "/v1/messages?x=1#ignored", "<a/>",
                                  {{"X-Test", "42"}, {"Content-Type", "application/xml"}}));
  ASSERT_TRUE(result) << result.problem().one_line();
  EXPECT_EQ(result->status, 201);
  EXPECT_EQ(result->header("x-answer"), "yes");
  const auto json = nlohmann::json::parse(result->body);
  EXPECT_EQ(json["method"], "POST");
  EXPECT_EQ(json["target"], "/v1/messages?x=1");
  EXPECT_EQ(json["body"], "<a/>");
  EXPECT_EQ(json["x_test"], "42");
  EXPECT_EQ(json["host"], "127.0.0.1:" + std::to_string(server->port()));

  // An error status is a response, not a Problem.
  auto missing = client.send(get(base + "/missing"));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->header("content-type"), "application/problem+json");
}

// A file body is sent with its size as Content-Length, in pieces, byte-identical; a
// server that refuses it from the header alone is heard, not reported as a broken pipe.
TEST(HttpClient, SendsAFileBodyAndHearsAnEarlyRefusal) {
  const auto path = std::filesystem::temp_directory_path() / ("xoev-client-file-" + std::to_string(::getpid()));
  std::string content(3 * 1024 * 1024 + 5, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>((i * 131) ^ (i >> 9));
  std::ofstream(path, std::ios::binary) << content;

  HttpServer::Options options;
  options.listen = "127.0.0.1:0";
  options.max_body_bytes = 4 * 1024 * 1024;
  std::string received;
  auto server = HttpServer::start(options, [&received](HttpRequest&& request, Responder respond) {
    received = request.body;
    respond(HttpResponse::json(201, {{"length", request.header("content-length")}}));
  });
  ASSERT_TRUE(server);
  auto client = HttpClient::create();
  ASSERT_TRUE(client);
  auto request = post("http://127.0.0.1:" + std::to_string((*server)->port()) + "/in", "");
  HttpClientFileBody file;
  file.path = path.string();
  int progress_calls = 0;
  file.on_progress = [&](std::uint64_t sent, std::uint64_t total) {
    ++progress_calls;
    EXPECT_LE(sent, total);
  };
  auto response = client->send(request, file);
  ASSERT_TRUE(response) << response.problem().one_line();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(nlohmann::json::parse(response->body)["length"], std::to_string(content.size()));
  EXPECT_TRUE(received == content) << "the server received " << received.size() << " bytes";
  EXPECT_GE(progress_calls, 12);  // 256 KiB pieces

  std::string large(20 * 1024 * 1024, 'x');
  std::ofstream(path, std::ios::binary | std::ios::trunc) << large;
  response = client->send(request, file);
  ASSERT_TRUE(response) << response.problem().one_line();
  EXPECT_EQ(response->status, 413);

  file.path = path.string() + ".missing";
  response = client->send(request, file);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.problem().kind, ProblemKind::io_error);
  std::filesystem::remove(path);
}

TEST(HttpClient, RefusedConnectionIsAClearProblem) {
  std::uint16_t port = 0;
  {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor probe(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }  // closed again: nothing listens there now
  const auto client = make_client();
  expect_io_error(client.send(get("http://127.0.0.1:" + std::to_string(port) + "/")), "connection refused");
}

TEST(HttpClient, SilentPeerTimesOut) {
  boost::asio::io_context ioc;
  // Listening but never accepting: the kernel completes the handshake, nobody answers.
  boost::asio::ip::tcp::acceptor silent(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto client = [] {
    HttpClient::Options options;
    options.connect_timeout = 2000ms;
    options.total_timeout = 400ms;
    return make_client(options);
  }();
  const auto start = std::chrono::steady_clock::now();
  auto result = client.send(get("http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/"));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  expect_io_error(result, "timeout");
  EXPECT_GE(elapsed, 350ms);
  EXPECT_LT(elapsed, 3s);
}

TEST(HttpClient, LimitsTheResponseSize) {
  auto server = echo_server();
  ASSERT_TRUE(server);
  const auto client = [] {
    HttpClient::Options options;
    options.max_response_bytes = 1000;
    return make_client(options);
  }();
  expect_io_error(client.send(get("http://127.0.0.1:" + std::to_string(server->port()) + "/big")), "exceeds");
}

TEST(HttpClient, RejectsUnusableUrlsAndFiles) {
  const auto client = make_client();
  for (const std::string url : {"ftp://example.org/", "127.0.0.1:8080/x", "http:///path", "http://h:0/", "http://u:p@h/"}) {
    auto result = client.send(get(url));
    ASSERT_FALSE(result) << url;
    EXPECT_EQ(result.problem().kind, ProblemKind::usage) << url;
  }
  auto bad_ca = HttpClient::create(tls_options("/nonexistent/ca.pem"));
  ASSERT_FALSE(bad_ca);
  EXPECT_NE(bad_ca.problem().detail.find("/nonexistent/ca.pem"), std::string::npos);
  auto half = HttpClient::create(tls_options("", "/x.pem"));
  ASSERT_FALSE(half);
}

class HttpClientTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new test::TestPki(test::TestPki::create()); }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  void SetUp() override {
    if (pki_->ca_cert.empty()) GTEST_FAIL() << "could not create the test PKI with openssl";
  }
  static std::string url(std::uint16_t port, std::string_view host = "127.0.0.1") {
    return "https://" + std::string(host) + ":" + std::to_string(port) + "/v1/messages";
  }
  static test::TestPki* pki_;
};
test::TestPki* HttpClientTls::pki_ = nullptr;

TEST_F(HttpClientTls, MutualTlsWithVerifiedServer) {
  test::TlsTestServer server(pki_->server_cert, pki_->server_key, pki_->ca_cert);
  const auto client = make_client(tls_options(pki_->ca_cert, pki_->client_cert, pki_->client_key));
  for (const std::string host : {"127.0.0.1", "localhost"}) {  // IP and DNS name verification
    auto result = client.send(post(url(server.port(), host), "<m/>"));
    ASSERT_TRUE(result) << host << ": " << result.problem().one_line();
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->body, "client=online-dienst-a body=<m/>");
  }
}

TEST_F(HttpClientTls, MissingClientCertificateIsATlsFailure) {
  test::TlsTestServer server(pki_->server_cert, pki_->server_key, pki_->ca_cert);
  const auto client = make_client(tls_options(pki_->ca_cert));
  expect_io_error(client.send(get(url(server.port()))), "TLS failure");
  EXPECT_GE(server.handshake_failures(), 1);
}

TEST_F(HttpClientTls, UntrustedServerIsRefused) {
  test::TlsTestServer server(pki_->server_cert, pki_->server_key, pki_->ca_cert);
  const auto client = make_client(tls_options(pki_->other_ca_cert, pki_->client_cert, pki_->client_key));
  expect_io_error(client.send(get(url(server.port()))), "certificate verify failed");
  // Without a CA file the system store applies, which does not know our test CA either.
  const auto system_trust = make_client(tls_options("", pki_->client_cert, pki_->client_key));
  expect_io_error(system_trust.send(get(url(server.port()))), "TLS failure");
}

TEST_F(HttpClientTls, WrongHostNameIsRefused) {
  test::TlsTestServer server(pki_->wrong_host_cert, pki_->wrong_host_key, pki_->ca_cert);
  const auto client = make_client(tls_options(pki_->ca_cert, pki_->client_cert, pki_->client_key));
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    auto result = client.send(get(url(server.port(), host)));
    expect_io_error(result, "mismatch");
  }
}

TEST_F(HttpClientTls, MismatchedClientKeyIsRejectedAtCreation) {
  auto client = HttpClient::create(tls_options(pki_->ca_cert, pki_->client_cert, pki_->server_key));
  ASSERT_FALSE(client);
  EXPECT_NE(client.problem().detail.find("mismatch"), std::string::npos) << client.problem().detail;
}

namespace {

// A bare HTTP/1.1 peer on loopback: counts connections and requests, answers each GET
// with 200 "ok", and after `requests_per_connection` closes the connection, with
// `Connection: close` on the last answer or (`silently`) without, as a server whose
// idle timeout expired between two requests.
class CountingPeer {
 public:
  CountingPeer(int requests_per_connection, bool silently)
      : acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}),
        per_connection_(requests_per_connection),
        silently_(silently),
        thread_([this] { run(); }) {}
  ~CountingPeer() {
    stop_ = true;
    boost::system::error_code ignored;
    boost::asio::ip::tcp::socket poke(ioc_);
    poke.connect(acceptor_.local_endpoint(), ignored);
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return connections_; }
  int requests() const { return requests_; }

 private:
  void run() {
    while (!stop_) {
      boost::asio::ip::tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stop_) return;
      ++connections_;
      std::string pending;
      for (int n = 1; n <= per_connection_; ++n) {
        char data[4096];
        while (pending.find("\r\n\r\n") == std::string::npos) {
          const size_t got = socket.read_some(boost::asio::buffer(data), ec);
          if (ec) break;
          pending.append(data, got);
        }
        if (ec) break;
        pending.erase(0, pending.find("\r\n\r\n") + 4);
        ++requests_;
        const bool last = n == per_connection_;
        const std::string answer = std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n") +
                                   (last && !silently_ ? "Connection: close\r\n" : "") + "\r\nok";
        boost::asio::write(socket, boost::asio::buffer(answer), ec);
      }
      socket.close(ec);
    }
  }

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  const int per_connection_;
  const bool silently_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

}  // namespace

// Issue 13: the HTTP adapter's connection is kept between messages: five requests, one
// TCP connection, every answer right.
TEST(HttpConnection, ConsecutiveRequestsShareOneConnection) {
  auto server = echo_server();
  ASSERT_TRUE(server);
  HttpConnection connection(make_client());
  const std::string url = "http://127.0.0.1:" + std::to_string(server->port()) + "/v1/x";
  for (int i = 0; i < 5; ++i) {
    auto result = connection.send(post(url, "<m n=\"" + std::to_string(i) + "\"/>"));
    ASSERT_TRUE(result) << result.problem().one_line();
    EXPECT_EQ(result->status, 201);
    EXPECT_EQ(nlohmann::json::parse(result->body)["body"], "<m n=\"" + std::to_string(i) + "\"/>");
  }
  EXPECT_EQ(connection.connections_opened(), 1u);
}

// A peer that closed the kept connection while it was idle: the request goes out once
// more on a new connection and succeeds. A peer that says Connection: close gets a new
// connection for the next request without a failed attempt.
TEST(HttpConnection, APeerThatClosedTheIdleConnectionGetsTheRequestOnANewOne) {
  for (const bool silently : {true, false}) {
    CountingPeer peer(2, silently);
    HttpConnection connection(make_client());
    const std::string url = "http://127.0.0.1:" + std::to_string(peer.port()) + "/";
    for (int i = 0; i < 5; ++i) {
      auto result = connection.send(get(url));
      ASSERT_TRUE(result) << (silently ? "silent close, " : "Connection: close, ") << "request " << i << ": "
                          << result.problem().one_line();
      EXPECT_EQ(result->body, "ok");
    }
    EXPECT_EQ(peer.requests(), 5) << "each request answered once";
    EXPECT_EQ(peer.connections(), 3);
    // Silently closed, the third and fifth requests found a dead connection first and
    // were sent again on the next one: no more connections either way.
    EXPECT_EQ(connection.connections_opened(), 3u);
  }
}

// Over TLS (our own server, which keeps connections) the handshake is made once, too.
TEST_F(HttpClientTls, AKeptConnectionShakesHandsOnce) {
  auto context = make_server_tls_context({pki_->server_cert, pki_->server_key, ""});
  ASSERT_TRUE(context) << context.problem().one_line();
  HttpServer::Options options;
  options.listen = "127.0.0.1:0";
  options.tls = std::make_shared<TlsContextSource>(std::move(context).value());
  auto server = HttpServer::start(options, [](HttpRequest&& request, Responder respond) {
    respond(HttpResponse::json(200, {{"tls", request.tls}}));
  });
  ASSERT_TRUE(server) << server.problem().one_line();
  HttpConnection connection(make_client(tls_options(pki_->ca_cert)));
  for (int i = 0; i < 3; ++i) {
    auto result = connection.send(post(url((*server)->port()), "<m/>"));
    ASSERT_TRUE(result) << result.problem().one_line();
    EXPECT_EQ(result->status, 200);
  }
  EXPECT_EQ(connection.connections_opened(), 1u);
}
