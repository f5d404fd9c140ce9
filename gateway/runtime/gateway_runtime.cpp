#include "gateway/runtime/gateway_runtime.h"

#include <spdlog/spdlog.h>

#include <pthread.h>

#include <sstream>

#include "gateway/api/gateway_api.h"
#include "gateway/preflight/preflight.h"
#include "gateway/delivery/delivery_loop.h"
#include "gateway/kafka/topic_names.h"

namespace xoev {
namespace {
// Submissions being parsed, validated and sealed or waiting for a worker; beyond it POST
// answers 503 server-busy at once rather than after a long wait.
constexpr std::size_t kMaxQueuedSubmissions = 1024;
}  // namespace

Result<std::unique_ptr<GatewayRuntime>> GatewayRuntime::start(const fs::path& config_file,
                                                              const std::optional<std::string>& listen_override) {
  std::unique_ptr<GatewayRuntime> rt(new GatewayRuntime());
  rt->config_file_ = config_file;
  rt->listen_override_ = listen_override;
  auto config = load_config(config_file);
  if (!config) return config.problem();
  if (listen_override) config->gateway.listen = *listen_override;

  // What check-config --serve would refuse, refused here with the same FILE:LINE.
  if (auto checked = preflight_status(*config, PreflightScope::serve(*config)); !checked) return checked.problem();
  auto snapshot = GatewaySnapshot::build(*config);
  if (!snapshot) return snapshot.problem();
  rt->snapshots_ = std::make_unique<SnapshotHolder>(std::move(snapshot).value());
  if (!config->schema_catalog)
    spdlog::warn("no schemas.catalog configured: messages are NOT validated against their XSD");

  auto kafka = start_kafka(*config);
  if (!kafka) return kafka.problem();
  rt->kafka_ = std::move(kafka).value();

  auto producer = Producer::create(rt->kafka_.connection, "xoevgate-gateway", config->gateway.ack_timeout);
  if (!producer) return producer.problem();
  rt->producer_ = std::move(producer).value();
  rt->receipts_ = std::make_unique<ReceiptPublisher>(*rt->producer_);
  rt->receipts_tracker_ = std::make_unique<ReceiptsTracker>(rt->kafka_.connection, rt->status_);

  if (config->kafka.backlog_bytes_per_partition > 0) {
    std::vector<BacklogMonitor::Watched> watched;
    for (const auto& d : config->destinations) watched.push_back({d.topic, names::consumer_group(d.id)});
    rt->backlog_ = std::make_unique<BacklogMonitor>(rt->kafka_.connection, std::move(watched),
                                                    config->kafka.backlog_bytes_per_partition, std::chrono::milliseconds(250));
    spdlog::warn("back-pressure: at most {} undelivered bytes per partition are accepted; beyond that POST answers "
                 "503 backlog-full until the deliverers catch up (the mock cluster drops records past ~5 MB)",
                 config->kafka.backlog_bytes_per_partition);
  }
  rt->pipeline_ = std::make_unique<IngestPipeline>(*rt->snapshots_, *rt->producer_, rt->status_, *rt->receipts_,
                                                   rt->backlog_.get());

  // Deliverers wait for each receipt's acknowledgement before committing, so their
  // producer must not linger to batch (the gateway's may: many requests in flight).
  bool any_in_process = false;
  for (const auto& d : config->destinations) any_in_process |= d.adapter.in_process;
  if (any_in_process) {
    auto dp = Producer::create(delivery_connection(rt->kafka_.connection), "xoevgate-deliver", config->gateway.ack_timeout);
    if (!dp) return dp.problem();
    rt->delivery_producer_ = std::move(dp).value();
  }
  for (const auto& d : config->destinations)
    if (d.adapter.in_process)
      if (auto s = rt->deliverers_.add(rt->kafka_.connection, *config, d, *rt->delivery_producer_); !s)
        return s.problem();

  // Started whether or not the config has callbacks now: a reload may add them.
  rt->callbacks_ = std::make_unique<CallbackDispatcher>(rt->kafka_.connection, *rt->snapshots_);

  rt->probe_ = std::jthread([r = rt.get()](std::stop_token stop) {
    pthread_setname_np(pthread_self(), "broker-probe");
    do r->broker_ok_ = r->producer_->reachable(std::chrono::seconds(2)).ok();
    while (sleep_unless_stopped(stop, std::chrono::seconds(2)));
  });

  http::HttpServer::Options opts;
  opts.listen = config->gateway.listen;
  opts.threads = config->gateway.threads;
  opts.max_body_bytes = config->max_body_bytes();
  if (opts.max_body_bytes < config->gateway.max_message_bytes)
    spdlog::warn("gateway.max_message_bytes is {} but one Kafka record carries at most {} bytes of XML once sealed "
                 "(message.max.bytes {}); larger bodies get 413 with that limit. Raise message.max.bytes on the brokers "
                 "and in kafka.properties to accept more.",
                 config->gateway.max_message_bytes, opts.max_body_bytes,
                 config->kafka.properties.count("message.max.bytes") ? config->kafka.properties.at("message.max.bytes")
                                                                      : std::string("1000000"));
  // One worker per core for parse/validate/seal; the queue bound only caps latency
  // (bodies are already bounded by the server's memory budget).
  rt->accept_workers_ = std::make_unique<WorkerPool>("accept", 0, kMaxQueuedSubmissions);
  auto security = SecurityRuntime::start(*config);
  if (!security) return security.problem();
  rt->security_ = std::move(security).value();
  opts.tls = rt->security_->tls();
  opts.on_refused = rt->security_->refusal_observer();
  GatewayRuntime* self = rt.get();
  auto server = http::HttpServer::start(
      opts, make_gateway_api({*rt->pipeline_, *rt->accept_workers_, rt->status_, [self] { return self->readiness(); },
                              [self] { return self->metrics(); }, rt->security_->api()}));
  if (!server) return server.problem();
  rt->server_ = std::move(server).value();
  spdlog::info("xoevgate listening on {} (port {}), {} destinations, {} routes", config->gateway.listen,
               rt->server_->port(), config->destinations.size(), config->routes.size());
  return rt;
}

GatewayRuntime::~GatewayRuntime() { stop(); }

void GatewayRuntime::stop() {
  if (stopped_) return;
  stopped_ = true;
  // 1. No new requests; those in flight get up to the server's grace period.
  if (server_) server_->stop();
  //    Submissions already handed to the workers finish while the producer still runs.
  if (accept_workers_) accept_workers_->join();
  // 2. The consumers: no more deliveries, callbacks or status updates from Kafka.
  if (callbacks_) callbacks_->stop();
  deliverers_.stop();
  if (receipts_tracker_) receipts_tracker_->stop();
  probe_.request_stop();
  if (probe_.joinable()) probe_.join();
  // 3. The producers: flushed, the rest failed, every delivery report served — while
  //    the pipeline, status store and receipt publisher those reports reach still live
  //    (and answer the requests still waiting with 503).
  if (delivery_producer_) delivery_producer_->close();
  if (producer_) producer_->close();
  // 4. Only now what the reports reached, then the server whose sessions they answered,
  //    then the producers themselves, then the cluster.
  accept_workers_.reset();
  pipeline_.reset();
  receipts_.reset();
  server_.reset();
  callbacks_.reset();
  receipts_tracker_.reset();
  delivery_producer_.reset();
  producer_.reset();
  backlog_.reset();
  kafka_.embedded.reset();
}

Status GatewayRuntime::readiness() const {
  if (!broker_ok_) return Problem::make(ProblemKind::broker_unavailable, "Kafka is not reachable");
  if (!receipts_tracker_->caught_up())
    return Problem::make(ProblemKind::broker_unavailable, "still reading message statuses from " + std::string(names::kReceiptsTopic));
  return ok_status();
}

Status GatewayRuntime::reload() {
  auto config = load_config(config_file_);
  if (!config) {
    ++reload_failures_;
    return config.problem();
  }
  if (listen_override_) config->gateway.listen = *listen_override_;
  const auto old = snapshots_->get();
  const Config& before = old->config();
  if (config->kafka.bootstrap != before.kafka.bootstrap || config->gateway.listen != before.gateway.listen)
    spdlog::warn("reload: kafka.bootstrap and gateway.listen changes take effect after a restart");
  for (const auto& d : config->destinations) {
    const auto* was = before.destination(d.id);
    if (!was || was->topic != d.topic || was->adapter.in_process != d.adapter.in_process)
      spdlog::warn("reload: destination '{}' is new or changed topic/in_process; its deliverer starts after a restart",
                   d.id);
  }
  if (auto checked = preflight_status(*config, PreflightScope::serve(*config)); !checked) {
    ++reload_failures_;
    return checked.problem();
  }
  auto snapshot = GatewaySnapshot::build(std::move(config).value());
  if (!snapshot) {
    ++reload_failures_;
    return snapshot.problem();
  }
  if (auto secured = security_->reload(snapshot.value()->config()); !secured) {
    ++reload_failures_;
    return secured.problem();
  }
  snapshots_->set(std::move(snapshot).value());
  ++reloads_;
  return ok_status();
}

std::string GatewayRuntime::metrics() const {
  std::ostringstream out;
  const auto& c = pipeline_->counters();
  out << "# TYPE xoevgate_messages_accepted_total counter\nxoevgate_messages_accepted_total " << c.accepted << "\n"
      << "# TYPE xoevgate_messages_duplicate_total counter\nxoevgate_messages_duplicate_total " << c.duplicates << "\n"
      << "# TYPE xoevgate_messages_refused_total counter\nxoevgate_messages_refused_total " << c.refused << "\n"
      << "# TYPE xoevgate_broker_failures_total counter\nxoevgate_broker_failures_total " << c.broker_failures << "\n"
      << "# TYPE xoevgate_backlog_refusals_total counter\nxoevgate_backlog_refusals_total " << c.backlog_refusals << "\n"
      << "# TYPE xoevgate_callbacks_total counter\nxoevgate_callbacks_total{outcome=\"sent\"} " << callbacks_->sent()
      << "\nxoevgate_callbacks_total{outcome=\"failed\"} " << callbacks_->failed() << "\n"
      << "# TYPE xoevgate_config_reloads_total counter\nxoevgate_config_reloads_total " << reloads_ << "\n"
      << "# TYPE xoevgate_config_reload_failures_total counter\nxoevgate_config_reload_failures_total "
      << reload_failures_ << "\n";
  out << "# TYPE xoevgate_messages gauge\n";
  for (const auto& [status, n] : status_.counts())
    out << "xoevgate_messages{status=\"" << to_string(status) << "\"} " << n << "\n";
  const auto snap = snapshots_->get();
  if (backlog_) {
    out << "# TYPE xoevgate_undelivered_bytes gauge\n";
    for (const auto& d : snap->config().destinations)
      out << "xoevgate_undelivered_bytes{destination=\"" << d.id << "\"} " << backlog_->undelivered_bytes(d.topic) << "\n";
  }
  out << "# TYPE xoevgate_deliveries_total counter\n";
  for (const auto& loop : deliverers_.loops()) {
    const auto& k = loop->counters();
    const std::string d = loop->destination_id();
    out << "xoevgate_deliveries_total{destination=\"" << d << "\",outcome=\"delivered\"} " << k.delivered << "\n"
        << "xoevgate_deliveries_total{destination=\"" << d << "\",outcome=\"retried\"} " << k.retried << "\n"
        << "xoevgate_deliveries_total{destination=\"" << d << "\",outcome=\"rejected\"} " << k.rejected << "\n"
        << "xoevgate_deliveries_total{destination=\"" << d << "\",outcome=\"dead_lettered\"} " << k.dead_lettered
        << "\n";
  }
  return out.str();
}

}  // namespace xoev
