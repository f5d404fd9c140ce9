// `xoevgate serve`: wires config, Kafka, the accept pipeline, status tracking, the
// in-process deliverers and the HTTP API, and takes them down in reverse order.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "gateway/callbacks/callback_dispatcher.h"
#include "gateway/http/http_server.h"
#include "gateway/ingest/ingest_pipeline.h"
#include "gateway/kafka/backlog_monitor.h"
#include "gateway/runtime/deliverer_pool.h"
#include "gateway/runtime/kafka_runtime.h"
#include "gateway/status/receipts_tracker.h"

namespace xoev {

class GatewayRuntime {
 public:
  static Result<std::unique_ptr<GatewayRuntime>> start(const fs::path& config_file,
                                                       const std::optional<std::string>& listen_override);
  ~GatewayRuntime();

  uint16_t port() const { return server_->port(); }
  // Re-reads the config; routes, schemas, standards and keys change at once. On any
  // error the running snapshot stays and the errors are logged.
  Status reload();
  void stop();

 private:
  GatewayRuntime() = default;
  Status readiness() const;
  std::string metrics() const;

  fs::path config_file_;
  std::optional<std::string> listen_override_;
  KafkaRuntime kafka_;
  std::unique_ptr<Producer> producer_;
  std::unique_ptr<Producer> delivery_producer_;  // receipts and dead letters of in-process deliverers
  StatusStore status_;
  std::unique_ptr<ReceiptsTracker> receipts_tracker_;
  std::unique_ptr<ReceiptPublisher> receipts_;
  std::unique_ptr<BacklogMonitor> backlog_;
  std::unique_ptr<SnapshotHolder> snapshots_;
  std::unique_ptr<IngestPipeline> pipeline_;
  DelivererPool deliverers_;
  std::unique_ptr<CallbackDispatcher> callbacks_;
  std::unique_ptr<http::HttpServer> server_;
  std::atomic<bool> broker_ok_{false};
  std::atomic<bool> stop_probe_{false};
  std::thread probe_;
  std::atomic<uint64_t> reloads_{0}, reload_failures_{0};
};

}  // namespace xoev
