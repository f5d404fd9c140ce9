#include "gateway/api/security_runtime.h"

#include <spdlog/spdlog.h>

#include "gateway/crypto/key_file.h"

namespace xoev {

namespace {
Result<std::shared_ptr<const auth::Authenticator>> build_authenticator(const Config& config) {
  std::shared_ptr<const crypto::Jwk> token_key;
  bool issues_tokens = false;
  for (const auto& s : config.security.senders) issues_tokens |= !s.client_id.empty();
  if (issues_tokens && config.keys.signing) {
    auto key = crypto::load_jwk_file(*config.keys.signing);
    if (!key) return std::move(key).problem();
    token_key = std::make_shared<const crypto::Jwk>(std::move(key).value());
  }
  return auth::Authenticator::build(config.security, std::move(token_key));
}

Result<std::shared_ptr<boost::asio::ssl::context>> build_tls(const Config& config) {
  const auto& tls = *config.security.tls;
  return http::make_server_tls_context({tls.certificate, tls.private_key, tls.client_ca});
}
}  // namespace

Result<std::unique_ptr<SecurityRuntime>> SecurityRuntime::start(const Config& config) {
  std::unique_ptr<SecurityRuntime> rt(new SecurityRuntime());
  if (config.security.tls) {
    auto context = build_tls(config);
    if (!context) return std::move(context).problem();
    rt->tls_ = std::make_shared<http::TlsContextSource>(std::move(context).value());
  }
  auto authenticator = build_authenticator(config);
  if (!authenticator) return std::move(authenticator).problem();
  rt->authenticator_ = std::move(authenticator).value();
  if (config.security.audit_file) {
    auto log = audit::AuditLog::open(*config.security.audit_file);
    if (!log) return std::move(log).problem();
    rt->audit_ = std::move(log).value();
  }
  rt->api_ = std::make_shared<ApiSecurity>();
  rt->api_->audit = rt->audit_.get();
  rt->api_->authenticator = [self = rt.get()] { return self->current(); };
  if (!config.security.authenticated())
    spdlog::warn("no senders: configured — every client may submit (anonymous); put the gateway behind an "
                 "authenticating proxy or restrict the listen address");
  else
    spdlog::info("security: {} senders, {} admins, TLS {}, audit log {}", config.security.senders.size(),
                 config.security.admins.size(), config.security.tls ? "on" : "off",
                 config.security.audit_file ? config.security.audit_file->string() : std::string("off"));
  return rt;
}

std::function<void(const Problem&, const std::string&, const std::string&)> SecurityRuntime::refusal_observer() const {
  if (!audit_) return {};
  return [api = api_](const Problem& problem, const std::string& target, const std::string& remote) {
    api->record({"refused", "", "", "", "", problem.http_status(), problem.slug(),
                 (target.empty() ? std::string() : target + ": ") + problem.detail, remote});
  };
}

std::function<void(const audit::AuditEvent&)> SecurityRuntime::decision_observer() const {
  if (!audit_) return {};
  return [log = audit_.get()](const audit::AuditEvent& event) { log->record(event); };
}

std::shared_ptr<const auth::Authenticator> SecurityRuntime::current() const {
  std::lock_guard lock(mutex_);
  return authenticator_;
}

Status SecurityRuntime::reload(const Config& config) {
  const auto refuse = [&](const Problem& p) -> Status {
    api_->record({"config-reloaded", "", "", "", "", 0, "failed", p.detail, ""});
    return p;
  };
  std::shared_ptr<boost::asio::ssl::context> context;
  if (config.security.tls) {
    if (!tls_) return refuse(Problem::make(ProblemKind::config_invalid, "reload: turning TLS on needs a restart"));
    auto built = build_tls(config);
    if (!built) return refuse(built.problem());
    context = std::move(built).value();
  } else if (tls_) {
    return refuse(Problem::make(ProblemKind::config_invalid, "reload: turning TLS off needs a restart"));
  }
  auto authenticator = build_authenticator(config);
  if (!authenticator) return refuse(authenticator.problem());
  if (context) tls_->replace(std::move(context));
  {
    std::lock_guard lock(mutex_);
    authenticator_ = std::move(authenticator).value();
  }
  api_->record({"config-reloaded", "", "", "", "", 0, "ok",
                std::to_string(config.security.senders.size()) + " senders", ""});
  return ok_status();
}

}  // namespace xoev
