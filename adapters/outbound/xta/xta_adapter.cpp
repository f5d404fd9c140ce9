#include "adapters/outbound/xta/xta_adapter.h"

#include "adapters/outbound/xta/xta_mailbox.h"
#include "adapters/outbound/xta/xta_soap_service.h"
#include "gateway/http/tls_context_source.h"

namespace xoev {
namespace {

class XtaAdapter final : public OutboundAdapter {
 public:
  XtaAdapter(std::shared_ptr<xta::Mailbox> mailbox, std::unique_ptr<xta::XtaSoapService> service,
             std::optional<TlsSection> tls, std::shared_ptr<http::TlsContextSource> tls_source)
      : mailbox_(std::move(mailbox)),
        service_(std::move(service)),
        tls_(std::move(tls)),
        tls_source_(std::move(tls_source)) {}
  ~XtaAdapter() override { service_->stop(); }

  std::string_view type() const override { return "xta"; }
  bool streams_files() const override { return true; }  // a large message is copied into the mailbox file to file

  // Readers connecting after this get the renewed certificate; open sessions keep theirs.
  Status reload_tls() override {
    if (!tls_ || !tls_source_) return ok_status();
    auto context = http::make_server_tls_context({tls_->certificate, tls_->private_key, tls_->client_ca});
    if (!context) return context.problem();
    tls_source_->replace(std::move(context).value());
    return ok_status();
  }

  DeliveryOutcome deliver(const DeliveredMessage& message) override {
    auto stored = mailbox_->store(message);
    if (!stored) {
      // An id that cannot name an entry never will; a disk problem may pass.
      if (stored.problem().kind == ProblemKind::bad_request) return Reject{stored.problem()};
      return Retry{{}, stored.problem().detail};
    }
    const std::string where = mailbox_->directory().string();
    if (*stored == xta::StoreOutcome::already_present) return Delivered{"already in xta mailbox " + where};
    return Delivered{"xta mailbox " + where + " (endpoint port " + std::to_string(service_->port()) + ")"};
  }

 private:
  std::shared_ptr<xta::Mailbox> mailbox_;
  std::unique_ptr<xta::XtaSoapService> service_;
  std::optional<TlsSection> tls_;
  std::shared_ptr<http::TlsContextSource> tls_source_;
};

}  // namespace

Result<OutboundAdapterPtr> make_xta_adapter(const XtaSettings& config) {
  if (config.directory.empty())
    return Problem::make(ProblemKind::config_invalid, "xta adapter needs 'directory' (the mailbox directory)");
  if (config.listen.empty())
    return Problem::make(ProblemKind::config_invalid, "xta adapter needs 'listen' (HOST:PORT of the SOAP endpoint)");
  auto mailbox = xta::Mailbox::open(config.directory);
  if (!mailbox) return mailbox.problem();
  std::shared_ptr<xta::Mailbox> shared = std::move(mailbox).value();
  xta::MailboxAccess access;
  if (config.tls) {
    auto context = http::make_server_tls_context({config.tls->certificate, config.tls->private_key, config.tls->client_ca});
    if (!context) return context.problem();
    access.tls = std::make_shared<http::TlsContextSource>(std::move(context).value());
  }
  access.reader_sha256 = config.reader_sha256;
  access.reader_subjects = config.reader_subjects;
  auto tls_source = access.tls;  // shared with the service: a reload replaces its context
  auto service = xta::XtaSoapService::start(shared, config.listen, std::move(access));
  if (!service) return service.problem();
  return OutboundAdapterPtr(std::make_unique<XtaAdapter>(shared, std::move(service).value(), config.tls, tls_source));
}

}  // namespace xoev
