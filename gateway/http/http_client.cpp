#include "gateway/http/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <type_traits>
#include <vector>

#include "gateway/http/url.h"

namespace xoev::http {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

struct HttpClient::Tls {
  mutable ssl::context context{ssl::context::tls_client};  // SSL_CTX is safe to share once set up
};

namespace {

constexpr std::uint32_t kResponseHeaderLimit = 64 * 1024;
constexpr std::size_t kFilePieceBytes = 256 * 1024;

// Runs the io_context until the one operation started by `start` completes. Timeouts
// come from the stream's own expiry timer, so run() always returns.
template <class Start>
beast::error_code run_one(net::io_context& ioc, Start&& start) {
  beast::error_code result;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

bool is_tls_error(const beast::error_code& ec) {
  return ec.category() == net::error::get_ssl_category() || ec.category() == ssl::error::get_stream_category();
}

struct Exchange {
  const Url& url;
  const HttpClientRequest& request;
  const HttpClientFileBody* file_body;  // null: request.body
  const HttpClientOptions& options;
  Clock::time_point deadline;
  bool keep_alive = false;  // ask to keep the connection (HttpConnection); else Connection: close

  Problem failure(std::string_view step, const beast::error_code& ec, SSL* tls = nullptr) const {
    const std::string where = url.authority();
    if (ec == beast::error::timeout) {
      return Problem::make(ProblemKind::io_error,
                           "timeout " + std::string(step) + " " + where + " (limits: connect " +
                               std::to_string(options.connect_timeout.count()) + " ms, total " +
                               std::to_string(options.total_timeout.count()) + " ms)");
    }
    if (ec == net::error::connection_refused) {
      return Problem::make(ProblemKind::io_error, "connection refused by " + where);
    }
    if (is_tls_error(ec)) {
      std::string detail = "TLS failure " + std::string(step) + " " + where + ": " + ec.message();
      if (tls != nullptr) {  // "certificate verify failed" says little; the verify result says why
        const long verify = SSL_get_verify_result(tls);
        if (verify != X509_V_OK) detail += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
      }
      return Problem::make(ProblemKind::io_error, detail);
    }
    return Problem::make(ProblemKind::io_error, std::string(step) + " " + where + " failed: " + ec.message());
  }

  template <class Body>
  bhttp::request<Body> message() const {
    bhttp::request<Body> req;
    const auto verb = bhttp::string_to_verb(request.method);
    if (verb == bhttp::verb::unknown) {
      req.method_string(request.method);
    } else {
      req.method(verb);
    }
    req.target(url.target);
    req.version(11);
    req.set(bhttp::field::host, url.host_header());
    req.set(bhttp::field::user_agent, "xoevgate/0.1");
    for (const auto& [name, value] : request.headers) {
      if (iequals(name, "content-length") || iequals(name, "transfer-encoding") || iequals(name, "connection")) {
        continue;  // framing is the client's job
      }
      req.set(name, value);
    }
    if constexpr (std::is_same_v<Body, bhttp::string_body>) {
      req.body() = request.body;
      req.prepare_payload();
    }
    req.keep_alive(keep_alive);
    return req;
  }

  // Connects (and shakes hands) within connect_timeout and the deadline.
  template <class Stream>
  Status connect(net::io_context& ioc, Stream& stream, const tcp::resolver::results_type& endpoints) const {
    auto& tcp_layer = beast::get_lowest_layer(stream);
    const auto connect_deadline = std::min(deadline, Clock::now() + options.connect_timeout);
    tcp_layer.expires_at(connect_deadline);
    auto ec = run_one(ioc, [&](auto handler) { tcp_layer.async_connect(endpoints, handler); });
    if (ec) return failure("connecting to", ec);
    tcp_layer.expires_at(deadline);
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      ec = run_one(ioc, [&](auto handler) { stream.async_handshake(ssl::stream_base::client, handler); });
      if (ec) return failure("in the handshake with", ec, stream.native_handle());
    }
    return ok_status();
  }

  // What one request on a connected stream left behind.
  struct After {
    bool reusable = false;  // answered, and both sides keep the connection
    bool stale = false;     // failed before any byte of an answer: the peer had closed it
  };

  // Sends the request and reads the answer on a connected stream.
  template <class Stream>
  Result<HttpClientResponse> transact(net::io_context& ioc, Stream& stream, After& after) const {
    constexpr bool tls = !std::is_same_v<Stream, beast::tcp_stream>;
    auto& tcp_layer = beast::get_lowest_layer(stream);
    SSL* tls_handle = nullptr;
    if constexpr (tls) tls_handle = stream.native_handle();
    tcp_layer.expires_at(deadline);
    beast::error_code ec;
    if (file_body == nullptr) {
      auto req = message<bhttp::string_body>();
      ec = run_one(ioc, [&](auto handler) { bhttp::async_write(stream, req, handler); });
      if (ec) {
        after.stale = ec != beast::error::timeout;
        return failure("sending the request to", ec, tls_handle);
      }
    } else {
      auto written = write_file_request(ioc, stream, ec);
      if (!written) return std::move(written).problem();
      if (ec) {
        // A server may answer before taking the whole body (401, 413) and close: its
        // answer says more than the broken pipe, so look for it briefly.
        tcp_layer.expires_after(std::min<Clock::duration>(options.total_timeout, std::chrono::seconds(2)));
        After early_after;
        auto early = read_response(ioc, stream, tls_handle, early_after);
        if (early) return early;
        after.stale = early_after.stale;
        return failure("sending the request to", ec, tls_handle);
      }
      tcp_layer.expires_after(options.total_timeout);
    }
    return read_response(ioc, stream, tls_handle, after);
  }

  template <class Stream>
  Result<HttpClientResponse> run(net::io_context& ioc, Stream& stream, const tcp::resolver::results_type& endpoints) const {
    if (auto connected = connect(ioc, stream, endpoints); !connected) return std::move(connected).problem();
    After after;
    return transact(ioc, stream, after);
  }

  // The header with the file's size as Content-Length, then the file piece by piece.
  // A Problem for a file that cannot be read; `ec` for a connection that failed.
  template <class Stream>
  Status write_file_request(net::io_context& ioc, Stream& stream, beast::error_code& ec) const {
    const auto& path = file_body->path;
    std::ifstream in(path, std::ios::binary);
    std::error_code size_error;
    const auto size = std::filesystem::file_size(path, size_error);
    if (!in || size_error) return Problem::make(ProblemKind::io_error, "cannot read " + path);
    auto head = message<bhttp::empty_body>();
    head.content_length(size);
    bhttp::request_serializer<bhttp::empty_body> serializer(head);
    ec = run_one(ioc, [&](auto handler) { bhttp::async_write_header(stream, serializer, handler); });
    if (ec) return ok_status();
    std::vector<char> piece(kFilePieceBytes);
    std::uint64_t sent = 0;
    while (sent < size) {
      in.read(piece.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(piece.size(), size - sent)));
      const auto got = static_cast<std::size_t>(in.gcount());
      if (got == 0) {
        return Problem::make(ProblemKind::io_error, path + " shrank while it was sent (" +
                                                        std::to_string(sent) + " of " + std::to_string(size) + " bytes)");
      }
      ec = run_one(ioc, [&](auto handler) { net::async_write(stream, net::buffer(piece.data(), got), handler); });
      if (ec) return ok_status();
      sent += got;
      beast::get_lowest_layer(stream).expires_after(options.total_timeout);  // progress, not the whole file
      if (file_body->on_progress) file_body->on_progress(sent, size);
    }
    return ok_status();
  }

  template <class Stream>
  Result<HttpClientResponse> read_response(net::io_context& ioc, Stream& stream, SSL* tls_handle, After& after) const {
    auto& tcp_layer = beast::get_lowest_layer(stream);
    beast::error_code ec;
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(kResponseHeaderLimit);
    parser.body_limit(options.max_response_bytes);
    // Header first: Boost 1.74's parser loses the body-limit error when the header and
    // body arrive in one read during an eager parse, so the limit is checked in between.
    ec = run_one(ioc, [&](auto handler) { bhttp::async_read_header(stream, buffer, parser, handler); });
    if (ec && ec != beast::error::timeout && buffer.size() == 0 && !parser.got_some()) after.stale = true;
    if (!ec && parser.content_length() && *parser.content_length() > options.max_response_bytes) {
      ec = bhttp::error::body_limit;
    }
    if (!ec) ec = run_one(ioc, [&](auto handler) { bhttp::async_read(stream, buffer, parser, handler); });
    if (ec == bhttp::error::body_limit) {
      return Problem::make(ProblemKind::io_error, "the response from " + url.authority() + " exceeds " +
                                                      std::to_string(options.max_response_bytes) + " bytes");
    }
    if (ec) return failure("waiting for the response from", ec, tls_handle);

    HttpClientResponse response;
    const auto& msg = parser.get();
    response.status = static_cast<int>(msg.result_int());
    for (const auto& field : msg) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    after.reusable = keep_alive && parser.keep_alive();
    response.body = std::move(parser.release().body());
    if (after.reusable) return response;
    // The connection ends here and we have the whole response; a TLS close_notify
    // exchange would only add a round trip, so the socket is simply closed.
    beast::error_code ignored;
    tcp_layer.socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp_layer.close();
    return response;
  }
};

// Verification of the server's name (or IP address) against its certificate.
Status expect_peer_name(SSL* tls, const std::string& host) {
  beast::error_code ec;
  const auto address = net::ip::make_address(host, ec);
  if (!ec) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls), address.to_string().c_str()) != 1) {
      return Problem::make(ProblemKind::io_error, "cannot set up IP verification for " + host);
    }
    return ok_status();
  }
  if (SSL_set_tlsext_host_name(tls, host.c_str()) != 1 || SSL_set1_host(tls, host.c_str()) != 1) {
    return Problem::make(ProblemKind::io_error, "cannot set up host name verification for " + host);
  }
  return ok_status();
}

Result<tcp::resolver::results_type> resolve(net::io_context& ioc, const Url& url) {
  tcp::resolver resolver(ioc);
  tcp::resolver::results_type endpoints;
  auto ec = run_one(ioc, [&](auto handler) {
    resolver.async_resolve(url.host, std::to_string(url.port),
                           [&endpoints, handler](beast::error_code error, tcp::resolver::results_type found) mutable {
                             endpoints = std::move(found);
                             handler(error);
                           });
  });
  if (ec) return Problem::make(ProblemKind::io_error, "cannot resolve host " + url.host + ": " + ec.message());
  return endpoints;
}

}  // namespace

HttpClient::HttpClient(Options options, std::shared_ptr<const Tls> tls)
    : options_(std::move(options)), tls_(std::move(tls)) {}

Result<HttpClient> HttpClient::create(const Options& options) {
  auto tls = std::make_shared<Tls>();
  auto& ctx = tls->context;
  beast::error_code ec;
  auto fail = [&](const std::string& what) {
    return Problem::make(ProblemKind::io_error, what + ": " + ec.message());
  };
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_verify_mode(ssl::verify_peer, ec);
  if (ec) return fail("cannot enable TLS peer verification");
  if (options.ca_file.empty()) {
    ctx.set_default_verify_paths(ec);
    if (ec) return fail("cannot load the system CA certificates");
  } else {
    ctx.load_verify_file(options.ca_file, ec);
    if (ec) return fail("cannot load CA file " + options.ca_file);
  }
  if (options.client_certificate.empty() != options.client_key.empty()) {
    return Problem::make(ProblemKind::usage, "a client certificate needs its private key and vice versa");
  }
  if (!options.client_certificate.empty()) {
    ctx.use_certificate_chain_file(options.client_certificate, ec);
    if (ec) return fail("cannot load client certificate " + options.client_certificate);
    ctx.use_private_key_file(options.client_key, ssl::context::pem, ec);
    if (ec) return fail("cannot load client key " + options.client_key);
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
      return Problem::make(ProblemKind::io_error, "client key " + options.client_key + " does not match certificate " +
                                                      options.client_certificate);
    }
  }
  return HttpClient(options, std::move(tls));
}

Result<HttpClientResponse> HttpClient::send(const HttpClientRequest& request) const {
  return exchange(request, nullptr);
}

Result<HttpClientResponse> HttpClient::send(const HttpClientRequest& request, const HttpClientFileBody& body) const {
  return exchange(request, &body);
}

Result<HttpClientResponse> HttpClient::exchange(const HttpClientRequest& request, const HttpClientFileBody* body) const {
  auto url = Url::parse(request.url);
  if (!url) return std::move(url).problem();
  const Exchange exchange{*url, request, body, options_, Clock::now() + options_.total_timeout};

  net::io_context ioc(1);
  auto resolved = resolve(ioc, *url);
  if (!resolved) return std::move(resolved).problem();
  const auto& endpoints = *resolved;

  try {
    if (!url->tls()) {
      beast::tcp_stream stream(ioc);
      return exchange.run(ioc, stream, endpoints);
    }
    beast::ssl_stream<beast::tcp_stream> stream(ioc, tls_->context);
    if (auto named = expect_peer_name(stream.native_handle(), url->host); !named) return std::move(named).problem();
    return exchange.run(ioc, stream, endpoints);
  } catch (const std::exception& e) {  // Beast throws only on misuse or bad_alloc; keep it inside
    return Problem::make(ProblemKind::io_error, "request to " + url->authority() + " failed: " + e.what());
  }
}

struct HttpConnection::State {
  explicit State(HttpClient c) : client(std::move(c)) {}
  HttpClient client;
  net::io_context ioc{1};
  std::string origin;  // scheme://host:port of the open connection; empty: none
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  std::uint64_t opened = 0;

  void close() {
    beast::error_code ignored;
    if (plain) plain->socket().close(ignored);
    if (tls) beast::get_lowest_layer(*tls).socket().close(ignored);
    plain.reset();
    tls.reset();
    origin.clear();
  }
};

HttpConnection::HttpConnection(HttpClient client) : state_(std::make_unique<State>(std::move(client))) {}
HttpConnection::~HttpConnection() {
  if (state_) state_->close();
}

std::uint64_t HttpConnection::connections_opened() const { return state_->opened; }

Result<HttpClientResponse> HttpConnection::send(const HttpClientRequest& request) { return exchange(request, nullptr); }

Result<HttpClientResponse> HttpConnection::send(const HttpClientRequest& request, const HttpClientFileBody& body) {
  return exchange(request, &body);
}

Result<HttpClientResponse> HttpConnection::exchange(const HttpClientRequest& request, const HttpClientFileBody* body) {
  State& s = *state_;
  auto url = Url::parse(request.url);
  if (!url) return std::move(url).problem();
  const auto& options = s.client.options_;
  const Exchange exchange{*url, request, body, options, Clock::now() + options.total_timeout, true};
  const std::string origin = url->scheme + "://" + url->authority();
  try {
    for (int round = 0;; ++round) {
      const bool reused = !s.origin.empty() && s.origin == origin;
      if (!reused) {
        s.close();
        auto resolved = resolve(s.ioc, *url);
        if (!resolved) return std::move(resolved).problem();
        Status connected = ok_status();
        if (url->tls()) {
          s.tls.emplace(s.ioc, s.client.tls_->context);
          if (auto named = expect_peer_name(s.tls->native_handle(), url->host); !named) {
            s.close();
            return std::move(named).problem();
          }
          connected = exchange.connect(s.ioc, *s.tls, *resolved);
        } else {
          s.plain.emplace(s.ioc);
          connected = exchange.connect(s.ioc, *s.plain, *resolved);
        }
        ++s.opened;
        if (!connected) {
          s.close();
          return std::move(connected).problem();
        }
        s.origin = origin;
      }
      Exchange::After after;
      auto response = s.tls ? exchange.transact(s.ioc, *s.tls, after) : exchange.transact(s.ioc, *s.plain, after);
      if (!after.reusable) s.close();
      // A kept connection the peer closed while idle: once more, on a new one.
      if (!response && reused && after.stale && round == 0) continue;
      return response;
    }
  } catch (const std::exception& e) {  // Beast throws only on misuse or bad_alloc; keep it inside
    s.close();
    return Problem::make(ProblemKind::io_error, "request to " + url->authority() + " failed: " + e.what());
  }
}

}  // namespace xoev::http
