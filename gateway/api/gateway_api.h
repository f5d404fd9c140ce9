// The HTTP API of CONTRACTS.md §2 on top of the ingest pipeline and the status
// store: POST/GET /v1/messages, POST /v1/token, /healthz, /readyz, /metrics.
#pragma once

#include <functional>
#include <string>

#include "gateway/api/api_security.h"
#include "gateway/core/worker_pool.h"
#include "gateway/http/path_router.h"
#include "gateway/ingest/ingest_pipeline.h"
#include "gateway/status/status_store.h"

namespace xoev {

struct GatewayApiDeps {
  IngestPipeline& pipeline;
  WorkerPool& accept_workers;  // parse, validate and seal run here, never on the I/O threads
  StatusStore& status;
  std::function<Status()> ready;          // config loaded, broker reachable, receipts caught up
  std::function<std::string()> metrics;   // Prometheus text exposition
  // Authentication, rights, rate limits, audit. Default: anonymous, no audit log.
  std::shared_ptr<ApiSecurity> security = std::make_shared<ApiSecurity>();
};

http::PathRouter make_gateway_api(GatewayApiDeps deps);

// application/xml, text/xml and application/*+xml, with or without parameters.
bool is_xml_media_type(std::string_view content_type);

}  // namespace xoev
