#include "adapters/outbound/xta/xta_soap_service.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "adapters/outbound/xta/xta_protocol.h"
#include "adapters/outbound/xta/xta_soap_handler.h"
#include "adapters/outbound/xta/xta_soap_writer.h"
#include "gateway/http/http_server.h"

namespace xoev::xta {
namespace {

constexpr const char* kSoapContentType = "application/soap+xml; charset=utf-8";
constexpr std::size_t kMaxQueuedRequests = 256;  // beyond this a poller gets 503 instead of unbounded memory

http::HttpResponse soap_response(int status, std::string body) {
  http::HttpResponse r;
  r.status = status;
  r.content_type = kSoapContentType;
  r.body = std::move(body);
  return r;
}

// One thread working through mailbox requests in arrival order.
class Worker {
 public:
  Worker() : thread_([this] { run(); }) {}
  ~Worker() { stop(); }

  bool post(std::function<void()> job) {
    std::lock_guard lock(mutex_);
    if (stopping_ || jobs_.size() >= kMaxQueuedRequests) return false;
    jobs_.push_back(std::move(job));
    wake_.notify_one();
    return true;
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      wake_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and everything queued is answered
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

bool may_read(const MailboxAccess& access, const http::HttpRequest& request) {
  const auto& cert = request.client_certificate;
  if (!cert || !cert->chained) return false;
  for (const auto& fp : access.reader_sha256)
    if (fp == cert->sha256) return true;
  for (const auto& subject : access.reader_subjects)
    if (subject == cert->subject) return true;
  return false;
}

}  // namespace

struct XtaSoapService::Impl {
  std::shared_ptr<Mailbox> mailbox;
  Worker worker;
  std::unique_ptr<http::HttpServer> server;
};

XtaSoapService::XtaSoapService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
XtaSoapService::~XtaSoapService() { stop(); }

std::uint16_t XtaSoapService::port() const { return impl_->server ? impl_->server->port() : 0; }

void XtaSoapService::stop() {
  if (impl_->server) impl_->server->stop();
  impl_->worker.stop();
}

Result<std::unique_ptr<XtaSoapService>> XtaSoapService::start(std::shared_ptr<Mailbox> mailbox,
                                                               const std::string& listen, MailboxAccess access) {
  auto impl = std::make_unique<Impl>();
  impl->mailbox = std::move(mailbox);
  Impl* self = impl.get();

  http::HttpServer::Options options;
  options.listen = listen;
  options.threads = 1;  // a mailbox has one or a few pollers
  options.max_body_bytes = kMaxSoapRequestBytes;
  options.tls = access.tls;
  const bool bound = !access.reader_sha256.empty() || !access.reader_subjects.empty();
  auto server = http::HttpServer::start(options, [self, bound, access](http::HttpRequest&& request, http::Responder respond) {
    if (bound && !may_read(access, request)) {
      respond(soap_response(403, fault_response({kActionFault, {}}, {"Sender", "this client certificate is not bound to this "
                                                                               "mailbox (readers: in the destination's config)",
                                                                     "", "", ""})));
      return;
    }
    if (request.method != "POST") {
      auto r = soap_response(405, fault_response({kActionFault, {}}, {"Sender", "use POST with a SOAP 1.2 envelope", "", "", ""}));
      r.headers.emplace_back("Allow", "POST");
      respond(std::move(r));
      return;
    }
    auto body = std::make_shared<std::string>(std::move(request.body));
    const bool queued = self->worker.post([self, body, respond] {
      SoapReply reply = handle_soap_request(*self->mailbox, *body);
      http::HttpResponse r = soap_response(reply.http_status, std::move(reply.body));
      if (!reply.content_type.empty()) r.content_type = std::move(reply.content_type);
      r.body_file = std::move(reply.attachment);
      r.body_after = std::move(reply.after);
      respond(std::move(r));
    });
    if (!queued) {
      auto r = soap_response(503, fault_response({kActionFault, {}}, {"Receiver", "mailbox busy, retry later", "", "", ""}));
      r.headers.emplace_back("Retry-After", "1");
      respond(std::move(r));
    }
  });
  if (!server) {
    Problem p = server.problem();
    p.detail = "xta mailbox endpoint " + listen + ": " + p.detail;
    return p;
  }
  impl->server = std::move(server).value();
  return std::unique_ptr<XtaSoapService>(new XtaSoapService(std::move(impl)));
}

}  // namespace xoev::xta
