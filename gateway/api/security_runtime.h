// The security state of a running gateway: the listener's TLS context and the API's
// authenticator, both rebuilt from the config on reload and swapped in whole (a reload
// that fails keeps the old ones), plus the audit log, rate limits and submitter index
// that live across reloads.
#pragma once

#include <memory>
#include <mutex>

#include "gateway/api/api_security.h"
#include "gateway/config/config.h"
#include "gateway/http/tls_context_source.h"

namespace xoev {

class SecurityRuntime {
 public:
  static Result<std::unique_ptr<SecurityRuntime>> start(const Config& config);
  // New TLS context (for new connections) and authenticator; an audit line either way.
  Status reload(const Config& config);

  std::shared_ptr<http::TlsContextSource> tls() const { return tls_; }  // null: plain HTTP
  std::shared_ptr<ApiSecurity> api() const { return api_; }
  // For in-process deliverers' delivered / rejected / dead-lettered lines; null without
  // audit.file. Lives as long as this SecurityRuntime.
  audit::AuditLog* audit_log() const { return audit_.get(); }
  // In-process deliverers' decisions into this audit log; empty without audit.file.
  std::function<void(const audit::AuditEvent&)> decision_observer() const;
  // HttpServerOptions::on_refused: an audit line for what the HTTP layer refuses (413 …).
  std::function<void(const Problem&, const std::string&, const std::string&)> refusal_observer() const;

 private:
  SecurityRuntime() = default;
  std::shared_ptr<const auth::Authenticator> current() const;

  std::shared_ptr<http::TlsContextSource> tls_;
  std::shared_ptr<ApiSecurity> api_;
  std::unique_ptr<audit::AuditLog> audit_;
  mutable std::mutex mutex_;
  std::shared_ptr<const auth::Authenticator> authenticator_;
};

}  // namespace xoev
