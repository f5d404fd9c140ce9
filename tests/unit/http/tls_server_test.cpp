// The gateway's own HTTP server over TLS: versions below 1.2 refused, 1.2 and 1.3
// served, the client certificate handed to the Handler (chained or why not), a silent
// client dropped after the handshake timeout, and a swapped context used for new
// connections. Real sockets, real OpenSSL (openssl s_client for the old versions).
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "gateway/http/http_client.h"
#include "gateway/http/http_server.h"
#include "gateway/http/tls_context_source.h"
#include "test_pki.h"

namespace xoev::http {
namespace {

using test::TestPki;

struct TlsServer {
  std::unique_ptr<HttpServer> server;
  std::shared_ptr<TlsContextSource> source;
};

TlsServer start(const TestPki& pki, bool with_client_ca, std::chrono::seconds handshake_timeout = std::chrono::seconds(10)) {
  TlsServer out;
  auto context = make_server_tls_context({pki.server_cert, pki.server_key, with_client_ca ? pki.ca_cert : ""});
  EXPECT_TRUE(context) << context.problem().one_line();
  if (!context) return out;
  out.source = std::make_shared<TlsContextSource>(std::move(context).value());
  HttpServer::Options options;
  options.listen = "127.0.0.1:0";
  options.tls = out.source;
  options.handshake_timeout = handshake_timeout;
  auto server = HttpServer::start(options, [](HttpRequest&& request, Responder respond) {
    nlohmann::json j = {{"tls", request.tls}};
    if (request.client_certificate) {
      j["subject"] = request.client_certificate->subject;
      j["sha256"] = request.client_certificate->sha256;
      j["chained"] = request.client_certificate->chained;
    }
    respond(HttpResponse::json(200, j));
  });
  EXPECT_TRUE(server) << server.problem().one_line();
  if (server) out.server = std::move(server).value();
  return out;
}

int s_client(std::uint16_t port, const std::string& version_flag, const TestPki& pki) {
  const std::string command = "openssl s_client -connect 127.0.0.1:" + std::to_string(port) + " " + version_flag +
                              " -cipher DEFAULT@SECLEVEL=0 -CAfile " + pki.ca_cert +
                              " -verify_return_error </dev/null >/dev/null 2>&1";
  return std::system(command.c_str());
}

TEST(TlsServer, RefusesTls10And11AndServes12And13) {
  const auto pki = TestPki::create();
  ASSERT_FALSE(pki.ca_cert.empty());
  auto s = start(pki, false);
  ASSERT_TRUE(s.server);
  EXPECT_NE(s_client(s.server->port(), "-tls1", pki), 0);
  EXPECT_NE(s_client(s.server->port(), "-tls1_1", pki), 0);
  EXPECT_EQ(s_client(s.server->port(), "-tls1_2", pki), 0);
  EXPECT_EQ(s_client(s.server->port(), "-tls1_3", pki), 0);
}

TEST(TlsServer, HandsTheClientCertificateToTheHandler) {
  const auto pki = TestPki::create();
  ASSERT_FALSE(pki.ca_cert.empty());
  auto s = start(pki, true);
  ASSERT_TRUE(s.server);
  const std::string url = "https://127.0.0.1:" + std::to_string(s.server->port()) + "/x";

  HttpClientOptions with_cert;
  with_cert.ca_file = pki.ca_cert;
  with_cert.client_certificate = pki.client_cert;
  with_cert.client_key = pki.client_key;
  auto client = HttpClient::create(with_cert);
  ASSERT_TRUE(client);
  auto answer = client->send({"GET", url, {}, ""});
  ASSERT_TRUE(answer) << answer.problem().one_line();
  auto j = nlohmann::json::parse(answer->body);
  EXPECT_TRUE(j["tls"].get<bool>());
  EXPECT_TRUE(j["chained"].get<bool>());
  EXPECT_NE(j["subject"].get<std::string>().find("CN=online-dienst-a"), std::string::npos);
  EXPECT_EQ(j["sha256"].get<std::string>().size(), 95u);  // 32 bytes as XX: pairs

  HttpClientOptions without_cert;
  without_cert.ca_file = pki.ca_cert;
  auto anonymous = HttpClient::create(without_cert);
  ASSERT_TRUE(anonymous);
  auto plain = anonymous->send({"GET", url, {}, ""});
  ASSERT_TRUE(plain) << plain.problem().one_line();
  EXPECT_FALSE(nlohmann::json::parse(plain->body).contains("subject"));
}

TEST(TlsServer, UntrustedClientCertificateIsReportedNotTrusted) {
  const auto pki = TestPki::create();
  ASSERT_FALSE(pki.ca_cert.empty());
  // A client certificate signed by the unrelated CA: make it with openssl.
  const std::string d = pki.dir;
  ASSERT_EQ(std::system(("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + d +
                         "/rogue.key -out " + d + "/rogue.csr -subj /CN=rogue >/dev/null 2>&1 && openssl x509 -req -days 1 -in " +
                         d + "/rogue.csr -CA " + pki.other_ca_cert + " -CAkey " + pki.other_ca_key +
                         " -CAcreateserial -out " + d + "/rogue.pem >/dev/null 2>&1")
                            .c_str()),
            0);
  auto s = start(pki, true);
  ASSERT_TRUE(s.server);
  HttpClientOptions options;
  options.ca_file = pki.ca_cert;
  options.client_certificate = d + "/rogue.pem";
  options.client_key = d + "/rogue.key";
  auto client = HttpClient::create(options);
  ASSERT_TRUE(client);
  auto answer = client->send({"GET", "https://127.0.0.1:" + std::to_string(s.server->port()) + "/x", {}, ""});
  ASSERT_TRUE(answer) << answer.problem().one_line();
  auto j = nlohmann::json::parse(answer->body);
  EXPECT_FALSE(j["chained"].get<bool>());
  EXPECT_EQ(j["subject"], "CN=rogue");
}

TEST(TlsServer, SilentClientIsDroppedAfterTheHandshakeTimeout) {
  const auto pki = TestPki::create();
  ASSERT_FALSE(pki.ca_cert.empty());
  auto s = start(pki, false, std::chrono::seconds(1));
  ASSERT_TRUE(s.server);
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket(ioc);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), s.server->port()});
  const auto began = std::chrono::steady_clock::now();
  char byte;
  boost::system::error_code ec;
  socket.read_some(boost::asio::buffer(&byte, 1), ec);  // blocks until the server closes
  EXPECT_TRUE(ec);
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(5));
}

TEST(TlsServer, ReplacedContextServesNewConnections) {
  const auto pki = TestPki::create();
  ASSERT_FALSE(pki.ca_cert.empty());
  auto s = start(pki, false);
  ASSERT_TRUE(s.server);
  // The new context presents a certificate for other.example: a client checking for
  // 127.0.0.1 now refuses it, which shows the swap took effect.
  auto replacement = make_server_tls_context({pki.wrong_host_cert, pki.wrong_host_key, ""});
  ASSERT_TRUE(replacement);
  HttpClientOptions options;
  options.ca_file = pki.ca_cert;
  auto client = HttpClient::create(options);
  ASSERT_TRUE(client);
  const std::string url = "https://127.0.0.1:" + std::to_string(s.server->port()) + "/x";
  EXPECT_TRUE(client->send({"GET", url, {}, ""}));
  s.source->replace(std::move(replacement).value());
  EXPECT_FALSE(client->send({"GET", url, {}, ""}));
}

TEST(TlsServer, KeyThatDoesNotFitTheCertificateIsAProblem) {
  const auto pki = TestPki::create();
  ASSERT_FALSE(pki.ca_cert.empty());
  auto context = make_server_tls_context({pki.server_cert, pki.client_key, ""});
  ASSERT_FALSE(context);
  EXPECT_NE(context.problem().detail.find(pki.client_key), std::string::npos) << context.problem().detail;
}

}  // namespace
}  // namespace xoev::http
