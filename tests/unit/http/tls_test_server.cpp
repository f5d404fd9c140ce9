#include "tls_test_server.h"

#include <openssl/x509.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <thread>

namespace xoev::http::test {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

struct TlsTestServer::Impl {
  net::io_context ioc;
  ssl::context tls{ssl::context::tls_server};
  tcp::acceptor acceptor{ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
  std::atomic<int> failures{0};
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      serve(std::move(socket));  // one at a time is plenty for tests
      accept();
    });
  }

  void serve(tcp::socket socket) {
    ssl::stream<tcp::socket> stream(std::move(socket), tls);
    boost::system::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) {
      ++failures;
      return;
    }
    boost::beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> request;
    bhttp::read(stream, buffer, request, ec);
    if (ec) {
      ++failures;  // TLS 1.3 reports a missing client certificate only here
      return;
    }
    std::string subject;
    if (X509* peer = SSL_get1_peer_certificate(stream.native_handle())) {
      char cn[256] = {};
      X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
      subject = cn;
      X509_free(peer);
    }
    bhttp::response<bhttp::string_body> response{bhttp::status::ok, 11};
    response.set(bhttp::field::content_type, "text/plain");
    response.body() = "client=" + subject + " body=" + request.body();
    response.prepare_payload();
    response.keep_alive(false);
    bhttp::write(stream, response, ec);
    stream.shutdown(ec);
  }
};

TlsTestServer::TlsTestServer(const std::string& cert, const std::string& key, const std::string& client_ca)
    : impl_(std::make_unique<Impl>()) {
  impl_->tls.use_certificate_chain_file(cert);
  impl_->tls.use_private_key_file(key, ssl::context::pem);
  impl_->tls.load_verify_file(client_ca);
  impl_->tls.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

TlsTestServer::~TlsTestServer() {
  impl_->ioc.stop();
  impl_->thread.join();
}

std::uint16_t TlsTestServer::port() const { return impl_->acceptor.local_endpoint().port(); }
int TlsTestServer::handshake_failures() const { return impl_->failures.load(); }

}  // namespace xoev::http::test
