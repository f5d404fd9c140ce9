// Settings of one HttpServer (HttpServer::Options), defaults in one place.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace xoev::http {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT, [IPv6]:PORT; port 0 picks a free one
  int threads = 2;                        // I/O threads
  size_t max_body_bytes = 16 << 20;       // larger bodies get 413
  std::chrono::seconds read_timeout{30};  // from a request's first byte to its last
  std::chrono::seconds idle_timeout{60};  // keep-alive wait for the next request
  std::chrono::seconds stop_grace{5};     // stop(): how long in-flight requests may finish
};

}  // namespace xoev::http
