// The XTA msgBoxPort as an HTTP endpoint: SOAP 1.2 over gateway/http's HttpServer.
// POST (any path) with Content-Type application/soap+xml. Mailbox work (file reads,
// fsync on close) runs on one worker thread of its own, never on the I/O threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "adapters/outbound/xta/xta_mailbox.h"
#include "gateway/core/result.h"
#include "gateway/http/tls_context_source.h"

namespace xoev::xta {

// Who may use the mailbox: TLS (null: plain HTTP) and, when any are listed, the client
// certificates (chained to the TLS client_ca) bound to it; others get a SOAP fault, 403.
struct MailboxAccess {
  std::shared_ptr<http::TlsContextSource> tls;
  std::vector<std::string> reader_sha256;
  std::vector<std::string> reader_subjects;
};

class XtaSoapService {
 public:
  // Binds `listen` (HOST:PORT; port 0 picks a free one): a bind error is the Problem.
  static Result<std::unique_ptr<XtaSoapService>> start(std::shared_ptr<Mailbox> mailbox, const std::string& listen,
                                                       MailboxAccess access = {});

  ~XtaSoapService();  // stop()
  XtaSoapService(const XtaSoapService&) = delete;
  XtaSoapService& operator=(const XtaSoapService&) = delete;

  std::uint16_t port() const;
  void stop();  // idempotent

 private:
  struct Impl;
  explicit XtaSoapService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace xoev::xta
