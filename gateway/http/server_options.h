// Settings of one HttpServer (HttpServer::Options), defaults in one place. The caps
// bound what hostile clients can make the server hold: memory, descriptors, time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "gateway/core/problem.h"

namespace xoev::http {

class TlsContextSource;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT, [IPv6]:PORT; port 0 picks a free one
  int threads = 2;                        // I/O threads
  size_t max_body_bytes = 16 << 20;       // larger bodies get 413
  // Streamed bodies (body_stream.h) are never held whole: their own limit (413 beyond
  // it, by Content-Length up front or counted mid-stream), and how long the application
  // may withhold more() before the request is given up.
  std::uint64_t max_stream_bytes = std::uint64_t{2} << 30;
  std::chrono::seconds max_stream_pause{600};
  size_t max_header_bytes = 64 << 10;     // request line + fields; larger get 431 (room for long bearer tokens)
  size_t max_chunk_extension_bytes = 1024;  // per chunk header; longer get 400
  // Request bodies held at once across all connections (being read or being handled);
  // a request that would exceed it gets 503 with Retry-After.
  size_t max_buffered_bytes = 256u << 20;
  // Open connections. The total is further capped to leave reserved descriptors free
  // for Kafka, files and deliverers (see connection_capacity in fd_limit.h). Beyond
  // either cap a new connection gets 503 and is closed at once.
  size_t max_connections = 10000;
  size_t max_connections_per_address = 1024;  // a reverse proxy is one address: not too low
  int reserved_fd_percent = 25;   // of RLIMIT_NOFILE, kept free of connections
  size_t reserved_fd_min = 256;   // at least this many
  // Null: plain HTTP. Else every connection starts with a TLS handshake using the
  // source's current context (swapped on reload).
  std::shared_ptr<TlsContextSource> tls;
  std::chrono::seconds handshake_timeout{10};  // from accept to the end of the TLS handshake
  std::chrono::seconds header_timeout{10};  // from a request's first byte to its header's end
  std::chrono::seconds read_timeout{30};    // from a request's first byte to its last; streamed: between bytes
  std::chrono::seconds idle_timeout{60};    // keep-alive wait for the next request
  std::chrono::seconds busy_retry_after{2};  // Retry-After of a 503 for a full server
  std::chrono::seconds stop_grace{5};       // stop(): how long in-flight requests may finish
  // Told of every request the server itself refuses before a Handler sees it (413, 431,
  // 400, 503 busy): the problem, the request target if its header was read, the peer
  // address. For the audit log; runs on an I/O thread and must not block.
  std::function<void(const Problem&, const std::string& target, const std::string& remote)> on_refused;
};

}  // namespace xoev::http
