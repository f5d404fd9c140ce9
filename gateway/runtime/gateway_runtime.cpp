#include "gateway/runtime/gateway_runtime.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <pthread.h>


#include "gateway/api/gateway_api.h"
#include "gateway/core/log_format.h"
#include "gateway/preflight/preflight.h"
#include "gateway/delivery/delivery_loop.h"
#include "gateway/kafka/topic_admin.h"
#include "gateway/kafka/topic_names.h"
#include "gateway/status/receipt_signature.h"
#include "gateway/metrics/build_info.h"
#include "gateway/metrics/process_metrics.h"
#include "gateway/runtime/runtime_metrics.h"

namespace xoev {
namespace {
// Submissions being parsed, validated and sealed or waiting for a worker; beyond it POST
// answers 503 server-busy at once rather than after a long wait.
constexpr std::size_t kMaxQueuedSubmissions = 1024;
// How long a reload waits for a real cluster to create a new destination's topics.
constexpr std::chrono::seconds kTopicTimeout{15};
}  // namespace

Result<std::unique_ptr<GatewayRuntime>> GatewayRuntime::start(const fs::path& config_file,
                                                              const std::optional<std::string>& listen_override) {
  std::unique_ptr<GatewayRuntime> rt(new GatewayRuntime());
  rt->config_file_ = config_file;
  rt->listen_override_ = listen_override;
  auto config = load_config(config_file);
  if (!config) return config.problem();
  logging::configure_from_config(config->log.format, config->log.level);
  if (listen_override) config->gateway.listen = *listen_override;

  // What check-config --serve would refuse, refused here with the same FILE:LINE.
  if (auto checked = preflight_status(*config, PreflightScope::serve(*config)); !checked) return checked.problem();
  auto snapshot = GatewaySnapshot::build(*config);
  if (!snapshot) return snapshot.problem();
  rt->snapshots_ = std::make_unique<SnapshotHolder>(std::move(snapshot).value());
  for (const auto& d : config->destinations) rt->started_destinations_.insert(d.id);
  if (!config->schema_catalog)
    spdlog::warn("no schemas.catalog configured: messages are NOT validated against their XSD");

  auto kafka = start_kafka(*config);
  if (!kafka) return kafka.problem();
  rt->kafka_ = std::move(kafka).value();

  auto producer = Producer::create(rt->kafka_.connection, "xoevgate-gateway", config->gateway.ack_timeout);
  if (!producer) return producer.problem();
  rt->producer_ = std::move(producer).value();
  rt->backlog_ = start_backlog_monitor(*config, rt->kafka_.connection, watched_topics(*config));
  rt->receipts_ = std::make_unique<ReceiptPublisher>(*rt->producer_, rt->snapshots_->get()->signing_key());
  auto receipt_signers = load_receipt_signers(config->keys);
  if (!receipt_signers) return receipt_signers.problem();
  rt->receipts_tracker_ = std::make_unique<ReceiptsTracker>(rt->kafka_.connection, rt->status_, *receipt_signers);
  // One worker per core for parse/validate/seal; the queue bound only caps latency
  // (bodies are already bounded by the server's memory budget).
  rt->accept_workers_ = std::make_unique<WorkerPool>("accept", 0, kMaxQueuedSubmissions);
  // Large uploads' chunks, and single records that do not fit, wait here for room.
  if (rt->backlog_) rt->backlog_waiter_ = std::make_unique<BacklogWaiter>(*rt->backlog_);
  rt->pipeline_ = std::make_unique<IngestPipeline>(
      *rt->snapshots_, *rt->producer_, rt->status_, *rt->receipts_, rt->backlog_.get(),
      IngestPipeline::BacklogWait{rt->backlog_waiter_.get(), rt->accept_workers_.get(), config->kafka.backlog_wait});
  rt->receipts_tracker_->on_applied([pipeline = rt->pipeline_.get()](const Receipt& r) { pipeline->receipt_applied(r); });

  // Before the deliverers: in-process ones write to the gateway's audit log.
  auto security = SecurityRuntime::start(*config);
  if (!security) return security.problem();
  rt->security_ = std::move(security).value();

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
      if (auto s = rt->deliverers_.add(rt->kafka_.connection, *config, d, *rt->delivery_producer_, rt->backlog_.get(),
                                       rt->security_->decision_observer());
          !s)
        return s.problem();

  // Started whether or not the config has callbacks now: a reload may add them.
  rt->callbacks_ = std::make_unique<CallbackDispatcher>(rt->kafka_.connection, *rt->snapshots_,
                                                        std::move(receipt_signers).value());

  rt->probe_ = std::jthread([r = rt.get()](std::stop_token stop) {
    pthread_setname_np(pthread_self(), "broker-probe");
    do r->broker_ok_ = r->producer_->reachable(std::chrono::seconds(2)).ok();
    while (sleep_unless_stopped(stop, std::chrono::seconds(2)));
  });

  http::HttpServer::Options opts;
  opts.listen = config->gateway.listen;
  opts.threads = config->gateway.threads;
  // Bodies up to one chunk are read whole (one record); larger ones are streamed as
  // chunk records up to gateway.max_message_bytes (README "Large messages").
  opts.max_body_bytes = config->max_body_bytes();
  opts.max_stream_bytes = config->gateway.max_message_bytes;
  // One or two jobs per upload at a time; the bound is far above what connections allow.
  rt->stream_workers_ = std::make_shared<WorkerPool>("stream", 0, 1u << 16);
  opts.tls = rt->security_->tls();
  opts.on_refused = rt->security_->refusal_observer();
  GatewayRuntime* self = rt.get();
  GatewayApiDeps deps{*rt->pipeline_, *rt->accept_workers_, rt->status_, [self] { return self->readiness(); },
                      [self] { return self->metrics(); }, rt->security_->api(),
                      // Dead letters through the API: the only way to the embedded cluster from outside.
                      [self](const DeadLetterQuery& query) -> Result<nlohmann::json> {
                        const auto snap = self->snapshots_->get();
                        auto signers = load_receipt_signers(snap->config().keys);  // verified receipts only
                        if (!signers) return signers.problem();
                        return answer_dead_letter_query(self->kafka_.connection, snap->config(), *signers, query);
                      },
                      std::make_shared<WorkerPool>("admin", 1, 2),
                      [self] { return self->reload_table(); },
                      [self] { return self->snapshots_->get(); },
                      rt->stream_workers_,
                      rt->backlog_waiter_.get(),
                      StreamedSubmission::Options{
                          .chunk_bytes = config->kafka.chunk_bytes,
                          .head_window_bytes = config->gateway.max_head_bytes,
                          .max_message_bytes = config->gateway.max_message_bytes,
                          .backlog_stall = config->kafka.backlog_stall}};
  auto server = http::HttpServer::start(opts, make_gateway_api(std::move(deps)));
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
  if (stream_workers_) stream_workers_->join();  // later work of streamed uploads is dropped
  backlog_waiter_.reset();
  // 2. The consumers: no more deliveries, callbacks or status updates from Kafka.
  if (callbacks_) callbacks_->stop();
  {
    std::lock_guard lock(deliverers_mu_);
    deliverers_.stop();
  }
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
  stream_workers_.reset();
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
  auto outcome = reload_table();
  if (outcome.reloaded()) return ok_status();
  Problem first = outcome.reasons.front();
  if (outcome.reasons.size() > 1)
    first.detail += " (and " + std::to_string(outcome.reasons.size() - 1) + " more; run `xoevgate check-config " +
                    config_file_.string() + "`)";
  return first;
}

ReloadOutcome GatewayRuntime::reload_table() {
  std::lock_guard serialised(reload_mu_);
  ReloadOutcome outcome;
  auto refuse = [&](std::vector<Problem> reasons) {
    ++reload_failures_;
    outcome.version = snapshots_->get()->routing_version();
    outcome.reasons = std::move(reasons);
    return outcome;
  };
  Config config;
  if (auto problems = read_config(config_file_, config); !problems.empty()) return refuse(std::move(problems));
  if (listen_override_) config.gateway.listen = *listen_override_;
  const auto old = snapshots_->get();
  const Config& before = old->config();
  // Settings read at start only: a reload that changes one says which.
  const std::pair<bool, const char*> start_only[] = {
      {config.kafka.bootstrap != before.kafka.bootstrap, "kafka.bootstrap"},
      {config.gateway.listen != before.gateway.listen, "gateway.listen"},
      {config.gateway.max_message_bytes != before.gateway.max_message_bytes, "gateway.max_message_bytes"},
      {config.gateway.max_head_bytes != before.gateway.max_head_bytes, "gateway.max_head_bytes"},
      {config.kafka.chunk_bytes != before.kafka.chunk_bytes, "kafka.chunk_bytes"},
      {config.kafka.backlog_stall != before.kafka.backlog_stall, "kafka.backlog_stall"},
      {config.kafka.backlog_wait != before.kafka.backlog_wait, "kafka.backlog_wait"}};
  std::vector<std::string> changed;
  for (const auto& [differs, key] : start_only)
    if (differs) changed.emplace_back(key);
  if (!changed.empty()) spdlog::warn("reload: changes of {} take effect after a restart", fmt::join(changed, ", "));
  // A destination that moves to another topic or in/out of this process would strand
  // the records already on its old topic: that takes a restart (or a new destination id).
  std::vector<Problem> reasons;
  for (const auto& d : config.destinations) {
    const auto* was = before.destination(d.id);
    if (was && (was->topic != d.topic || was->adapter.in_process != d.adapter.in_process))
      reasons.push_back(Problem::make(ProblemKind::config_invalid,
                                      "destination '" + d.id + "' changes its topic or in_process; records already on '" +
                                          was->topic + "' would be stranded: restart the gateway for that, or add a "
                                          "destination with a new id")
                            .at(d.where));
  }
  if (!reasons.empty()) return refuse(std::move(reasons));
  if (auto problems = preflight(config, PreflightScope::serve(config)); !problems.empty())
    return refuse(std::move(problems));
  // The whole table (directory, ambiguities, schemas, keys) is built before anything
  // starts: a table that cannot load starts nothing.
  auto snapshot = GatewaySnapshot::build(std::move(config), generation_ + 1);
  if (!snapshot) return refuse({snapshot.problem()});
  const Config& next = snapshot.value()->config();
  std::vector<const DestinationSection*> added;
  for (const auto& d : next.destinations)
    if (!before.destination(d.id)) added.push_back(&d);
  {
    // Renewed certificates of in-process adapters (the XTA mailbox endpoint) first:
    // a renewal that fails changes nothing else.
    std::lock_guard lock(deliverers_mu_);
    if (auto renewed = deliverers_.reload_tls(); !renewed) return refuse({renewed.problem()});
  }
  // New destinations get their topics, back-pressure watching and (in_process) their
  // deliverer before any route can point at them: nothing is accepted that nobody would take.
  if (auto started = start_destinations(next, added); !started) return refuse({started.problem()});
  if (auto secured = security_->reload(next); !secured) return refuse({secured.problem()});
  ++generation_;
  outcome.version = snapshot.value()->routing_version();
  snapshots_->set(std::move(snapshot).value());
  ++reloads_;
  spdlog::info("routing table {} is live", outcome.version);
  return outcome;
}

Status GatewayRuntime::start_destinations(const Config& config, const std::vector<const DestinationSection*>& added) {
  for (const auto* d : added) {
    // A destination dropped by one reload and added again by another is still running.
    if (started_destinations_.count(d->id)) continue;
    const std::vector<std::string> topics{d->topic, names::dlq_topic(d->id)};
    if (kafka_.embedded) {
      for (const auto& t : topics)
        if (auto s = kafka_.embedded->create_topic(t); !s) return Problem(s.problem()).at(d->where);
    } else if (auto s = ensure_topics_exist(kafka_.connection, topics, config.kafka.partitions, kTopicTimeout); !s) {
      return Problem::make(ProblemKind::config_invalid,
                           "destination '" + d->id + "' cannot be started: " + s.problem().detail)
          .at(d->where);
    }
    if (backlog_)
      for (const auto& w : watched_topics(*d)) backlog_->watch(w);
    if (d->adapter.in_process) {
      if (!delivery_producer_) {
        auto dp = Producer::create(delivery_connection(kafka_.connection), "xoevgate-deliver", config.gateway.ack_timeout);
        if (!dp) return dp.problem();
        delivery_producer_ = std::move(dp).value();
      }
      std::lock_guard lock(deliverers_mu_);
      if (auto s = deliverers_.add(kafka_.connection, config, *d, *delivery_producer_, backlog_.get(),
                                   security_->decision_observer());
          !s)
        return Problem(s.problem()).at(d->where);
    }
    started_destinations_.insert(d->id);
    spdlog::info("reload: destination '{}' added; its topics exist{}", d->id,
                 d->adapter.in_process ? " and its deliverer runs" : "");
  }
  return ok_status();
}

std::string GatewayRuntime::metrics() const {
  using metrics::MetricType;
  metrics::Exposition out;
  metrics::write_build_info(out);
  metrics::write_process_metrics(out);
  write_pipeline_metrics(out, pipeline_->counters());
  auto& callbacks = out.family("xoevgate_callbacks_total", "Receipts POSTed to sender callbacks, by outcome.",
                               MetricType::counter);
  callbacks.sample({{"outcome", "sent"}}, static_cast<double>(callbacks_->sent()));
  callbacks.sample({{"outcome", "failed"}}, static_cast<double>(callbacks_->failed()));
  out.family("xoevgate_config_reloads_total", "Successful configuration reloads.", MetricType::counter)
      .sample({}, static_cast<double>(reloads_));
  out.family("xoevgate_config_reload_failures_total", "Configuration reloads refused (the old one stayed).",
             MetricType::counter)
      .sample({}, static_cast<double>(reload_failures_));
  out.family("xoevgate_receipts_unverified_total",
             "Records on xoev.receipts whose signature no trusted key verified; never applied.", MetricType::counter)
      .sample({}, static_cast<double>(receipts_tracker_->unverified()));
  auto& messages = out.family("xoevgate_messages", "Known messages by their current status (from xoev.receipts).",
                              MetricType::gauge);
  for (const auto& [status, n] : status_.counts())
    messages.sample({{"status", std::string(to_string(status))}}, static_cast<double>(n));
  const auto snap = snapshots_->get();
  if (backlog_) {
    auto& undelivered = out.family("xoevgate_undelivered_bytes",
                                   "Bytes between the deliverer group's committed offset and the end of the log "
                                   "(back-pressure of the embedded cluster).",
                                   MetricType::gauge);
    for (const auto& d : snap->config().destinations)
      undelivered.sample({{"destination", d.id}}, static_cast<double>(backlog_->undelivered_bytes(d.topic)));
  }
  {
    std::lock_guard lock(deliverers_mu_);
    write_delivery_metrics(out, deliverers_.loops());
  }
  return out.text();
}

}  // namespace xoev
