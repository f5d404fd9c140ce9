// The operations endpoints of `xoevgate deliver --listen HOST:PORT`: GET /metrics
// (the deliverer's families, process and build info), /healthz (process up) and
// /readyz (config loaded — the process would not run otherwise — and Kafka
// reachable, probed every 2 s in the background so a scrape never waits on a broker).
//
// TLS like the API's: gateway.tls (the host's certificate, key and optional client_ca)
// when configured, re-read by reload_tls() on SIGHUP. A non-loopback address without it
// is refused unless gateway.allow_plaintext is true (behind a TLS-terminating proxy).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "gateway/config/security_config.h"
#include "gateway/http/http_server.h"
#include "gateway/http/tls_context_source.h"
#include "gateway/http/path_router.h"
#include "gateway/kafka/producer.h"
#include "gateway/metrics/registry.h"
#include "gateway/runtime/deliverer_pool.h"

namespace xoev {

// /healthz, /readyz and /metrics on top of two functions (shared by any process that
// has no API of its own).
http::PathRouter make_ops_router(std::function<Status()> ready, std::function<std::string()> metrics);

class DelivererOps {
 public:
  // pool and producer must outlive the returned object (stop() it first).
  static Result<std::unique_ptr<DelivererOps>> start(const std::string& listen, const SecuritySection& security,
                                                     const DelivererPool& pool, const Producer& producer);
  ~DelivererOps();  // stop()
  uint16_t port() const { return server_ ? server_->port() : 0; }
  bool tls() const { return tls_ != nullptr; }
  // New connections get the re-read certificate and key; a failure keeps the old ones.
  // Turning TLS on or off takes a restart.
  Status reload_tls(const SecuritySection& security);
  void stop();

 private:
  DelivererOps() = default;
  metrics::Registry registry_;
  std::atomic<bool> broker_ok_{false};
  std::jthread probe_;
  std::shared_ptr<http::TlsContextSource> tls_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace xoev
