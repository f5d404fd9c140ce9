#include "gateway/http/responder.h"

#include <spdlog/spdlog.h>

#include <atomic>

#include "gateway/http/http_session.h"

namespace xoev::http {

namespace {

// Shared by all copies of one Responder. The atomic flag makes "exactly once" hold no
// matter how many threads race; the destructor answers for a handler that forgot to.
class ResponseSlot {
 public:
  ResponseSlot(std::weak_ptr<HttpSession> session, std::shared_ptr<ServerContext> context, std::string instance)
      : session_(std::move(session)), context_(std::move(context)), instance_(std::move(instance)) {}

  ResponseSlot(const ResponseSlot&) = delete;
  ResponseSlot& operator=(const ResponseSlot&) = delete;

  ~ResponseSlot() {
    if (answered_.load()) return;
    try {
      spdlog::error("http: handler for {} dropped its Responder without answering; sending 500", instance_);
      deliver(HttpResponse::problem(Problem::make(ProblemKind::internal, "the request was not answered"), instance_));
    } catch (...) {  // a destructor must not throw; the connection then just closes
    }
  }

  void withdraw() { answered_.store(true); }

  void deliver(HttpResponse response) {
    if (answered_.exchange(true)) {
      spdlog::warn("http: second answer for {} ignored", instance_);
      return;
    }
    context_->while_alive([&] {
      if (auto session = session_.lock()) session->post_response(std::move(response));
    });
  }

 private:
  std::atomic<bool> answered_{false};
  std::weak_ptr<HttpSession> session_;
  std::shared_ptr<ServerContext> context_;
  std::string instance_;
};

}  // namespace

WithdrawableResponder make_withdrawable_responder(std::weak_ptr<HttpSession> session,
                                                  std::shared_ptr<ServerContext> context, std::string instance) {
  auto slot = std::make_shared<ResponseSlot>(std::move(session), std::move(context), std::move(instance));
  return {[slot](HttpResponse response) { slot->deliver(std::move(response)); }, [slot] { slot->withdraw(); }};
}

Responder make_responder(std::weak_ptr<HttpSession> session, std::shared_ptr<ServerContext> context,
                         std::string instance) {
  auto slot = std::make_shared<ResponseSlot>(std::move(session), std::move(context), std::move(instance));
  return [slot](HttpResponse response) { slot->deliver(std::move(response)); };
}

}  // namespace xoev::http
