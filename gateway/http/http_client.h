// A small synchronous HTTP/1.1 client for http:// and https:// URLs, bounded in time and
// size, with server verification and optional mutual TLS: HttpClient opens a connection
// per request (`xoevgate send`, callbacks); HttpConnection keeps one open between the
// requests of one thread (the outbound http adapter, one per request in flight).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/core/result.h"
#include "gateway/http/http_headers.h"

namespace xoev::http {

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  // The whole exchange, connect included. With a file body it bounds progress instead:
  // each piece of the file sent, and the response after the last, get this long anew.
  std::chrono::milliseconds total_timeout{30000};
  std::string ca_file;             // PEM bundle that server certificates must chain to; empty: system store
  std::string client_certificate;  // PEM certificate (chain) presented for mutual TLS; empty: none
  std::string client_key;          // PEM private key of client_certificate
  std::size_t max_response_bytes = 64u << 20;
};

struct HttpClientRequest {
  std::string method = "GET";
  std::string url;     // http://host[:port]/path or https://...
  HeaderList headers;  // extra fields; Host, Content-Length and Connection are set by the client
  std::string body;
};

// A request body read from a file (instead of HttpClientRequest::body): sent with the
// file's size as Content-Length, in pieces of 256 KiB, so a large file is never held whole.
struct HttpClientFileBody {
  std::string path;
  // Told after each piece (bytes sent so far, file size), on the calling thread; may be empty.
  std::function<void(std::uint64_t sent, std::uint64_t total)> on_progress;
};

struct HttpClientResponse {
  int status = 0;
  HeaderList headers;
  std::string body;

  std::string header(std::string_view name) const { return header_value(headers, name); }
};

class HttpClient {
 public:
  using Options = HttpClientOptions;

  // Loads the CA file and client certificate now, so bad files fail early (io_error).
  static Result<HttpClient> create(const Options& options = {});

  // Any HTTP status is a response; a Problem (io_error) means no response: refused,
  // timed out, TLS failure (with the reason), or an unusable URL (usage). Thread-safe.
  Result<HttpClientResponse> send(const HttpClientRequest& request) const;
  // The same with the body from a file (request.body is ignored).
  Result<HttpClientResponse> send(const HttpClientRequest& request, const HttpClientFileBody& body) const;

 private:
  struct Tls;  // the OpenSSL client context, shared by copies of the client
  HttpClient(Options options, std::shared_ptr<const Tls> tls);
  Result<HttpClientResponse> exchange(const HttpClientRequest& request, const HttpClientFileBody* body) const;
  friend class HttpConnection;
  Options options_;
  std::shared_ptr<const Tls> tls_;
};

// One keep-alive connection made with an HttpClient's settings, reused by the next
// request to the same origin. A reused connection that turns out closed by the peer
// (its idle timeout) before any answer byte arrived is replaced and the request sent
// once more: callers send requests that may be repeated (the adapter's Idempotency-Key).
// Not thread-safe: one per thread.
class HttpConnection {
 public:
  explicit HttpConnection(HttpClient client);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  Result<HttpClientResponse> send(const HttpClientRequest& request);
  Result<HttpClientResponse> send(const HttpClientRequest& request, const HttpClientFileBody& body);
  // Connections opened so far (1 while every request could reuse the first).
  std::uint64_t connections_opened() const;

 private:
  struct State;
  Result<HttpClientResponse> exchange(const HttpClientRequest& request, const HttpClientFileBody* body);
  std::unique_ptr<State> state_;
};

}  // namespace xoev::http
