// The HTTP API of CONTRACTS.md §2 on top of the ingest pipeline and the status
// store: POST/GET /v1/messages, POST /v1/token, /healthz, /readyz, /metrics.
#pragma once

#include <functional>
#include <string>

#include "gateway/api/api_security.h"
#include "gateway/core/worker_pool.h"
#include "gateway/dlq/dead_letter_query.h"
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
  // Dead letters of the cluster serve uses (embedded included): /admin/dlq/{destination}.
  // Empty: the endpoint answers 404. Runs on admin_workers (reads whole topics).
  std::function<Result<nlohmann::json>(const DeadLetterQuery&)> dead_letters{};
  std::shared_ptr<WorkerPool> admin_workers{};
};

http::PathRouter make_gateway_api(GatewayApiDeps deps);

// "?a=1&b" → {a,1},{b,""} (no percent-decoding: ids and flags need none).
std::vector<std::pair<std::string, std::string>> query_parameters(std::string_view target);

// application/xml, text/xml and application/*+xml, with or without parameters.
bool is_xml_media_type(std::string_view content_type);

}  // namespace xoev
