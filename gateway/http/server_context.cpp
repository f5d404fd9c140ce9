#include "gateway/http/server_context.h"

namespace xoev::http {

ServerContext::ServerContext(HttpServerOptions opts, Handler h) : options(std::move(opts)), handler(std::move(h)) {}

void ServerContext::add_session(const std::shared_ptr<HttpSession>& session) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.emplace(session.get(), session);
}

void ServerContext::remove_session(const HttpSession* session) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.erase(session);
}

std::vector<std::shared_ptr<HttpSession>> ServerContext::sessions() const {
  std::vector<std::shared_ptr<HttpSession>> live;
  std::lock_guard lock(sessions_mutex_);
  live.reserve(sessions_.size());
  for (const auto& [key, weak] : sessions_) {
    if (auto session = weak.lock()) live.push_back(std::move(session));
  }
  return live;
}

size_t ServerContext::session_count() const {
  std::lock_guard lock(sessions_mutex_);
  return sessions_.size();
}

void ServerContext::declare_dead() {
  std::lock_guard lock(lifetime_mutex_);
  alive_ = false;
}

}  // namespace xoev::http
