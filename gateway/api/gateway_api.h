// The HTTP API of CONTRACTS.md §2 on top of the ingest pipeline and the status
// store: POST/GET /v1/messages, POST /v1/token, /healthz, /readyz, /metrics, and the
// admin endpoints /admin/dlq, /admin/reload, /admin/routes.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/api/api_security.h"
#include "gateway/core/worker_pool.h"
#include "gateway/dlq/dead_letter_query.h"
#include "gateway/http/path_router.h"
#include "gateway/ingest/ingest_pipeline.h"
#include "gateway/ingest/streamed_submission.h"
#include "gateway/status/status_store.h"

namespace xoev {

// What a reload did: the version of the table live afterwards (the new one, or the old
// one that stayed), and every reason it was refused (`FILE:LINE: message`), if it was.
struct ReloadOutcome {
  std::string version;
  std::vector<Problem> reasons;
  bool reloaded() const { return reasons.empty(); }
};

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
  // POST /admin/reload: the same reload as SIGHUP (runs on admin_workers). Empty: 404.
  std::function<ReloadOutcome()> reload{};
  // GET /admin/routes: the live table. Empty: 404.
  std::function<std::shared_ptr<const GatewaySnapshot>()> live_table{};
  // Large messages (README "Large messages"): bodies above stream_options.chunk_bytes
  // are streamed through a StreamedSubmission on these workers. Null: not streamed
  // (then the server's max_body_bytes is the limit).
  std::shared_ptr<WorkerPool> stream_workers{};
  BacklogWaiter* backlog_waiter = nullptr;  // null: no backlog limit applies
  StreamedSubmission::Options stream_options{};
};

http::PathRouter make_gateway_api(GatewayApiDeps deps);

// The caller of an admin endpoint (`what`, e.g. "POST /admin/reload"), when allowed:
// anyone while no senders are configured, else senders with the admin role. Otherwise
// the refusal is an audit line, the answer 403, and the result empty (as it is when
// identify() already answered 401/429).
std::optional<Caller> require_admin(ApiSecurity& security, const http::HttpRequest& request,
                                    const http::Responder& respond, const std::string& what);

// "?a=1&b" → {a,1},{b,""} (no percent-decoding: ids and flags need none).
std::vector<std::pair<std::string, std::string>> query_parameters(std::string_view target);

// "psw%3A06414000" → "psw:06414000" (a query value as clients encode it).
std::string percent_decoded(std::string_view text);

// application/xml, text/xml and application/*+xml, with or without parameters.
bool is_xml_media_type(std::string_view content_type);

}  // namespace xoev
