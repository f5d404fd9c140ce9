// The HTTP/1.1 server: a listener, its sessions and the I/O threads that run them.
// Asynchronous Boost.Beast; keep-alive; bodies bounded; problem+json for what it rejects.
#pragma once

#include <cstdint>
#include <memory>

#include "gateway/core/result.h"
#include "gateway/http/handler.h"
#include "gateway/http/path_router.h"
#include "gateway/http/server_options.h"

namespace xoev::http {

class HttpServer {
 public:
  using Options = HttpServerOptions;

  // Binds (errors as a Problem, e.g. "address already in use") and starts the threads.
  // Also raises the open-file soft limit to the hard limit for many connections.
  static Result<std::unique_ptr<HttpServer>> start(const Options& options, Handler handler);
  // Same, and the router's streaming routes take their large bodies as streams.
  static Result<std::unique_ptr<HttpServer>> start(const Options& options, PathRouter router);

  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::uint16_t port() const;  // the bound port, also when asked for port 0

  // Stops accepting, closes idle connections, lets in-flight requests finish for up to
  // Options::stop_grace, then joins the threads. Idempotent. Not from a Handler.
  void stop();

 private:
  struct Impl;
  static Result<std::unique_ptr<HttpServer>> start_with(const Options& options, Handler handler,
                                                        StreamRouteLookup stream_routes);
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace xoev::http
