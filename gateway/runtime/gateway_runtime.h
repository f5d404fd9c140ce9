// `xoevgate serve`: wires config, Kafka, the accept pipeline, status tracking, the
// in-process deliverers and the HTTP API, and takes them down in reverse order.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gateway/api/gateway_api.h"
#include "gateway/api/security_runtime.h"
#include "gateway/callbacks/callback_dispatcher.h"
#include "gateway/core/worker_pool.h"
#include "gateway/http/http_server.h"
#include "gateway/ingest/backlog_waiter.h"
#include "gateway/ingest/ingest_pipeline.h"
#include "gateway/kafka/backlog_monitor.h"
#include "gateway/kafka/producer.h"
#include "gateway/runtime/deliverer_pool.h"
#include "gateway/runtime/kafka_runtime.h"
#include "gateway/status/receipt_publisher.h"
#include "gateway/status/receipts_tracker.h"

namespace xoev {

class GatewayRuntime {
 public:
  static Result<std::unique_ptr<GatewayRuntime>> start(const fs::path& config_file,
                                                       const std::optional<std::string>& listen_override);
  ~GatewayRuntime();  // stop()

  uint16_t port() const { return server_ ? server_->port() : 0; }
  // Re-reads the config; routes, schemas, standards and keys change at once. On any
  // error the running snapshot stays. SIGHUP and POST /admin/reload both end here and
  // never interleave: the second waits for the first.
  ReloadOutcome reload_table();
  // reload_table() as one Status (the first reason, and how many more): for SIGHUP.
  Status reload();
  // Takes everything down in the one safe order (see the definition). Idempotent.
  void stop();

 private:
  GatewayRuntime() = default;
  Status readiness() const;
  std::string metrics() const;
  // Under reload_mu_: topics, back-pressure and deliverers of destinations the new
  // config adds, all before a route can point at them.
  Status start_destinations(const Config& config, const std::vector<const DestinationSection*>& added);

  // Declared so that whatever is reached by another's callbacks comes first (is
  // destroyed later); stop() resets them explicitly in that order anyway.
  fs::path config_file_;
  std::optional<std::string> listen_override_;
  KafkaRuntime kafka_;  // the embedded cluster, if any: the last to go
  std::unique_ptr<SnapshotHolder> snapshots_;
  StatusStore status_;
  std::unique_ptr<BacklogMonitor> backlog_;
  std::unique_ptr<Producer> producer_;
  std::unique_ptr<Producer> delivery_producer_;  // receipts and dead letters of in-process deliverers
  std::unique_ptr<ReceiptPublisher> receipts_;
  std::unique_ptr<IngestPipeline> pipeline_;
  std::unique_ptr<WorkerPool> accept_workers_;  // runs the pipeline off the HTTP I/O threads
  std::shared_ptr<WorkerPool> stream_workers_;  // large (streamed) submissions
  std::unique_ptr<BacklogWaiter> backlog_waiter_;  // their chunks wait here for the backlog
  std::unique_ptr<SecurityRuntime> security_;  // TLS context, authenticator, audit log (issue 9)
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<ReceiptsTracker> receipts_tracker_;
  DelivererPool deliverers_;
  mutable std::mutex deliverers_mu_;  // a reload adds deliverers while /metrics reads them
  std::unique_ptr<CallbackDispatcher> callbacks_;
  std::atomic<bool> broker_ok_{false};
  std::jthread probe_;
  std::atomic<uint64_t> reloads_{0}, reload_failures_{0};
  std::mutex reload_mu_;  // one reload at a time (SIGHUP and POST /admin/reload)
  std::uint64_t generation_ = 1;  // of the live table (routing_version.h); under reload_mu_
  std::set<std::string> started_destinations_;  // topics and deliverers up; under reload_mu_
  bool stopped_ = false;
};

}  // namespace xoev
