// `xoevgate deliver`: one outbound adapter as its own process (consumer group xoevgate.<ID>).
#include <spdlog/spdlog.h>

#include "gateway/audit/audit_log.h"
#include "gateway/cli/command.h"
#include "gateway/core/log_format.h"
#include "gateway/kafka/producer.h"
#include "gateway/kafka/topic_names.h"
#include "gateway/runtime/deliverer_ops.h"
#include "gateway/runtime/deliverer_pool.h"
#include "gateway/runtime/kafka_runtime.h"
#include "gateway/preflight/preflight.h"
#include "gateway/runtime/signal_waiter.h"
#include "gateway/runtime/systemd_notify.h"

namespace {

XOEVGATE_COMMAND("deliver", "run one outbound adapter for a destination", [](CLI::App& app) {
  auto config = std::make_shared<std::string>();
  auto destination = std::make_shared<std::string>();
  auto listen = std::make_shared<std::string>();
  app.add_option("--config", *config, "configuration file")->required();
  app.add_option("--destination", *destination, "destination id")->required();
  app.add_option("--listen", *listen, "serve GET /metrics, /healthz and /readyz on HOST:PORT");
  return [config, destination, listen]() -> int {
    xoev::SignalWaiter signals;
    auto c = xoev::load_config(*config);
    if (!c) return xoev::cli::fail(c.problem());
    xoev::logging::configure_from_config(c->log.format, c->log.level);
    const auto* d = c->destination(*destination);
    if (!d)
      return xoev::cli::fail(xoev::Problem::make(xoev::ProblemKind::usage, "no destination '" + *destination + "' in " + *config));
    // What check-config --destination ID would refuse, refused here with FILE:LINE.
    if (auto checked = xoev::preflight_status(*c, xoev::PreflightScope::deliver(d->id)); !checked)
      return xoev::cli::fail(checked.problem());
    if (c->kafka.embedded())
      return xoev::cli::fail(xoev::Problem::make(
          xoev::ProblemKind::usage,
          "kafka.bootstrap is 'embedded': that cluster lives inside `serve`; use in_process: true, or run "
          "`xoevgate dev-kafka` and put its bootstrap list into the config"));
    const xoev::KafkaConnection conn{c->kafka.bootstrap, c->kafka.properties};
    auto producer = xoev::Producer::create(xoev::delivery_connection(conn), "xoevgate-deliver-" + d->id,
                                           c->gateway.ack_timeout);
    if (!producer) return xoev::cli::fail(producer.problem());
    // Dead letters must stay visible: on a cluster that drops records (dev-kafka) the
    // loop waits while its DLQ is near the limit. Declared before the pool: outlives it.
    auto dead_letter_backlog =
        xoev::start_backlog_monitor(*c, conn, {{xoev::names::dlq_topic(d->id), xoev::names::consumer_group(d->id)}});
    // Its own hash chain: two processes never append to one. audit.file + ".<destination>".
    std::unique_ptr<xoev::audit::AuditLog> audit_log;
    xoev::DeliveryLoop::DecisionObserver decisions;
    if (c->security.audit_file) {
      auto opened = xoev::audit::AuditLog::open(xoev::deliverer_audit_file(*c->security.audit_file, d->id));
      if (!opened) return xoev::cli::fail(opened.problem());
      audit_log = std::move(opened).value();
      decisions = [log = audit_log.get()](const xoev::audit::AuditEvent& e) { log->record(e); };
      spdlog::info("deliverer '{}': audit log {}", d->id, audit_log->file().string());
    }
    xoev::DelivererPool pool;  // declared after the audit log: stopped before it closes
    if (auto s = pool.add(conn, *c, *d, **producer, dead_letter_backlog.get(), decisions); !s)
      return xoev::cli::fail(s.problem());
    std::unique_ptr<xoev::DelivererOps> ops;
    if (!listen->empty()) {
      auto started = xoev::DelivererOps::start(*listen, c->security, pool, **producer);
      if (!started) return xoev::cli::fail(started.problem());
      ops = std::move(started).value();
      spdlog::info("deliverer '{}': /metrics, /healthz and /readyz on {} (port {}, {})", d->id, *listen, ops->port(),
                   ops->tls() ? "TLS" : "plain HTTP");
    }
    if (auto s = xoev::systemd_notify_ready("delivering " + d->id); !s)
      spdlog::warn("systemd notification: {}", s.problem().one_line());
    // SIGHUP re-reads the certificates of --listen and of the adapter's endpoint (renewed
    // certificates); SIGINT/SIGTERM stop.
    while (signals.wait() == SIGHUP) {
      auto reread = xoev::load_config(*config);
      xoev::Status reloaded = reread ? xoev::Status(xoev::ok_status()) : xoev::Status(reread.problem());
      if (reloaded && ops) reloaded = ops->reload_tls(reread->security);
      if (reloaded) reloaded = pool.reload_tls();  // the adapter's own endpoint (XTA mailbox)
      if (audit_log)
        audit_log->record({.event = "config-reloaded", .destination = d->id, .result = reloaded ? "ok" : "failed",
                           .detail = reloaded ? "TLS certificates re-read" : reloaded.problem().detail});
      if (reloaded) spdlog::info("deliverer '{}': reloaded the TLS certificates (--listen, adapter endpoint)", d->id);
      else spdlog::error("deliverer '{}': reload refused, the old certificate stays: {}", d->id, reloaded.problem().one_line());
    }
    spdlog::info("deliverer '{}' shutting down", d->id);
    (void)xoev::systemd_notify_stopping();
    if (ops) ops->stop();
    pool.stop();
    (*producer)->close();  // after the loops: their last receipts are served first
    return 0;
  };
});

}  // namespace
