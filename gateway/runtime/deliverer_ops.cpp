#include "gateway/runtime/deliverer_ops.h"

#include <pthread.h>

#include "gateway/config/security_config_reader.h"
#include "gateway/kafka/consumer_service.h"
#include "gateway/metrics/build_info.h"
#include "gateway/metrics/process_metrics.h"
#include "gateway/runtime/runtime_metrics.h"

namespace xoev {

http::PathRouter make_ops_router(std::function<Status()> ready, std::function<std::string()> metrics) {
  http::PathRouter router;
  router.add("GET", "/healthz", [](http::HttpRequest&&, http::Responder respond) {
    respond(http::HttpResponse::json(200, {{"status", "up"}}));
  });
  router.add("GET", "/readyz", [ready](http::HttpRequest&& req, http::Responder respond) {
    if (const Status s = ready(); !s) {
      Problem p = s.problem();
      p.kind = ProblemKind::broker_unavailable;
      p.title = "Not ready";
      return respond(http::HttpResponse::problem(p, req.path));
    }
    respond(http::HttpResponse::json(200, {{"status", "ready"}}));
  });
  router.add("GET", "/metrics", [metrics](http::HttpRequest&&, http::Responder respond) {
    http::HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics();
    respond(std::move(r));
  });
  return router;
}

namespace {
Result<std::shared_ptr<boost::asio::ssl::context>> ops_tls_context(const TlsSection& tls) {
  return http::make_server_tls_context({tls.certificate, tls.private_key, tls.client_ca});
}
}  // namespace

Result<std::unique_ptr<DelivererOps>> DelivererOps::start(const std::string& listen, const SecuritySection& security,
                                                          const DelivererPool& pool, const Producer& producer) {
  // The same rule as gateway.listen: metrics are nobody's business on an open network.
  if (!security.tls && !security.allow_plaintext && !config_detail::is_loopback_listen(listen))
    return Problem::make(ProblemKind::usage,
                         "--listen " + listen + " is not a loopback address but gateway.tls is not configured: give "
                         "gateway.tls {certificate, private_key} (used for this port too), or set "
                         "gateway.allow_plaintext: true behind a TLS-terminating proxy");
  std::unique_ptr<DelivererOps> ops(new DelivererOps());
  if (security.tls) {
    auto context = ops_tls_context(*security.tls);
    if (!context) return std::move(context).problem();
    ops->tls_ = std::make_shared<http::TlsContextSource>(std::move(context).value());
  }
  ops->registry_.add([](metrics::Exposition& out) {
    metrics::write_build_info(out);
    metrics::write_process_metrics(out);
  });
  ops->registry_.add([&pool](metrics::Exposition& out) { write_delivery_metrics(out, pool.loops()); });
  ops->probe_ = std::jthread([o = ops.get(), &producer](std::stop_token stop) {
    pthread_setname_np(pthread_self(), "ops-probe");
    do o->broker_ok_ = producer.reachable(std::chrono::seconds(2)).ok();
    while (sleep_unless_stopped(stop, std::chrono::seconds(2)));
  });
  http::HttpServer::Options opts;
  opts.listen = listen;
  opts.threads = 1;
  opts.max_body_bytes = 4096;  // only GETs
  opts.max_connections = 64;
  opts.tls = ops->tls_;
  DelivererOps* self = ops.get();
  auto server = http::HttpServer::start(
      opts, make_ops_router(
                [self]() -> Status {
                  if (!self->broker_ok_) return Problem::make(ProblemKind::broker_unavailable, "Kafka is not reachable");
                  return ok_status();
                },
                [self] { return self->registry_.render(); }));
  if (!server) return server.problem();
  ops->server_ = std::move(server).value();
  return ops;
}

Status DelivererOps::reload_tls(const SecuritySection& security) {
  if (security.tls.has_value() != (tls_ != nullptr))
    return Problem::make(ProblemKind::config_invalid, "turning TLS of --listen on or off needs a restart");
  if (!tls_) return ok_status();
  auto context = ops_tls_context(*security.tls);
  if (!context) return std::move(context).problem();
  tls_->replace(std::move(context).value());
  return ok_status();
}

DelivererOps::~DelivererOps() { stop(); }

void DelivererOps::stop() {
  if (server_) server_->stop();
  probe_.request_stop();
  if (probe_.joinable()) probe_.join();
}

}  // namespace xoev
