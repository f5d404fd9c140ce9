#include "gateway/http/server_context.h"

#include <algorithm>

#include "gateway/http/http_session.h"

namespace xoev::http {

namespace {
// One body of the largest allowed size must always fit, or it would get 503 for ever.
std::size_t body_memory_limit(const HttpServerOptions& options) {
  return std::max(options.max_buffered_bytes, options.max_body_bytes + options.max_header_bytes);
}
}  // namespace

ServerContext::ServerContext(HttpServerOptions opts, Handler h, std::size_t connection_capacity,
                             StreamRouteLookup routes)
    : options(std::move(opts)),
      handler(std::move(h)),
      stream_routes(std::move(routes)),
      body_memory(body_memory_limit(options)),
      connections(connection_capacity, options.max_connections_per_address) {}

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

std::shared_ptr<HttpSession> ServerContext::longest_idle() const {
  // sessions() copies under the lock; the copies are released outside it, because the
  // last reference ending runs ~HttpSession, which takes the lock again.
  std::shared_ptr<HttpSession> oldest;
  auto oldest_since = std::chrono::steady_clock::time_point::max();
  for (auto& session : sessions()) {
    if (auto since = session->idle_since(); since && *since < oldest_since) {
      oldest_since = *since;
      oldest = session;
    }
  }
  return oldest;
}

void ServerContext::declare_dead() {
  std::lock_guard lock(lifetime_mutex_);
  alive_ = false;
}

}  // namespace xoev::http
