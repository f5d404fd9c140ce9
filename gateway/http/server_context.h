// What all sessions of one server share: settings, the application's Handler, and the
// bookkeeping that lets stop() close idle connections, wait for busy ones, and turn
// late Responders into no-ops; and the caps all connections share. Sessions and Responders hold it by shared_ptr, so it
// outlives every one of them (no globals: two servers in one process are independent).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "gateway/http/body_stream.h"
#include "gateway/http/connection_limiter.h"
#include "gateway/http/handler.h"
#include "gateway/http/memory_budget.h"
#include "gateway/http/server_options.h"

namespace xoev::http {

class HttpSession;

class ServerContext {
 public:
  // `connection_capacity`: the total connection cap after the descriptor reserve.
  // `stream_routes`: which requests stream their bodies (empty: none).
  ServerContext(HttpServerOptions options, Handler handler, std::size_t connection_capacity,
                StreamRouteLookup stream_routes = {});

  const HttpServerOptions options;
  const Handler handler;
  const StreamRouteLookup stream_routes;
  MemoryBudget body_memory;         // bodies being read or handled, all connections
  ConnectionLimiter connections;    // open connections, total and per address

  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  void begin_stopping() { stopping_.store(true, std::memory_order_release); }

  void add_session(const std::shared_ptr<HttpSession>& session);
  void remove_session(const HttpSession* session);
  std::vector<std::shared_ptr<HttpSession>> sessions() const;
  size_t session_count() const;
  // The session that has waited longest for its next request, if any is waiting: the
  // one to close when the connection cap is full and a new client knocks.
  std::shared_ptr<HttpSession> longest_idle() const;

  // Runs `fn` only while the server's io_context exists, under the lock that
  // declare_dead() takes: a Responder that got in here can still post safely.
  template <class Fn>
  void while_alive(Fn&& fn) {
    std::lock_guard lock(lifetime_mutex_);
    if (alive_) fn();
  }
  void declare_dead();

 private:
  std::atomic<bool> stopping_{false};
  mutable std::mutex sessions_mutex_;
  std::unordered_map<const HttpSession*, std::weak_ptr<HttpSession>> sessions_;
  std::mutex lifetime_mutex_;
  bool alive_ = true;
};

}  // namespace xoev::http
