// The API's side of security: who is asking (401 with WWW-Authenticate), whether they
// may (403, 429 with Retry-After), and one audit line for every such decision.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "gateway/audit/audit_log.h"
#include "gateway/auth/authenticator.h"
#include "gateway/auth/rate_limiter.h"
#include "gateway/auth/submitter_index.h"
#include "gateway/http/handler.h"

namespace xoev {

struct ApiSecurity {
  // The current authenticator (swapped on reload); null or !enabled(): anonymous.
  std::function<std::shared_ptr<const auth::Authenticator>()> authenticator;
  audit::AuditLog* audit = nullptr;  // may be null
  auth::RateLimiter rate_limiter;
  auth::SubmitterIndex submitters;

  void record(audit::AuditEvent event) const {
    if (audit) audit->record(event);
  }
};

// Who asks. Nullopt: the request was answered (401 or 429) and audited. An Identity
// with sender "anonymous" when no senders are configured.
struct Caller {
  auth::Identity identity;
  std::shared_ptr<const auth::Authenticator> authenticator;  // null when anonymous
  bool anonymous() const { return !authenticator; }
  const SenderSection* sender() const {
    return authenticator ? authenticator->security().sender(identity.sender) : nullptr;
  }
};
std::optional<Caller> identify(ApiSecurity& security, const http::HttpRequest& request, const http::Responder& respond,
                               bool rate_limited);

http::HttpResponse unauthorized_response(const Problem& problem, const std::string& instance);


}  // namespace xoev
