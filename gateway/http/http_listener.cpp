#include "gateway/http/http_listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "gateway/http/http_session.h"
#include "gateway/http/refusals.h"
#include "gateway/http/tls_context_source.h"

namespace xoev::http {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace {
std::string describe(const tcp::endpoint& endpoint) {
  std::ostringstream out;
  out << endpoint;
  return out.str();
}
}  // namespace

HttpListener::HttpListener(net::io_context& ioc, std::shared_ptr<ServerContext> context)
    : ioc_(ioc), context_(std::move(context)), acceptor_(net::make_strand(ioc)), retry_timer_(acceptor_.get_executor()) {}

Result<std::shared_ptr<HttpListener>> HttpListener::open(net::io_context& ioc, const tcp::endpoint& endpoint,
                                                         std::shared_ptr<ServerContext> context) {
  auto listener = std::make_shared<HttpListener>(ioc, std::move(context));
  auto& acceptor = listener->acceptor_;
  beast::error_code ec;
  const auto fail = [&](std::string_view step) {
    std::string reason = ec == net::error::address_in_use ? "address already in use" : ec.message();
    return Problem::make(ProblemKind::io_error,
                         "cannot " + std::string(step) + " " + describe(endpoint) + ": " + reason);
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open a socket for");
  acceptor.set_option(net::socket_base::reuse_address(true), ec);  // restart without waiting for TIME_WAIT
  if (ec) return fail("configure a socket for");
  acceptor.bind(endpoint, ec);
  if (ec) return fail("listen on");
  acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  listener->port_ = acceptor.local_endpoint(ec).port();
  if (ec) return fail("query the port of");
  return listener;
}

void HttpListener::start() { net::dispatch(acceptor_.get_executor(), beast::bind_front_handler(&HttpListener::accept, shared_from_this())); }

void HttpListener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
}

void HttpListener::accept() {
  if (!acceptor_.is_open()) return;
  acceptor_.async_accept(net::make_strand(ioc_), beast::bind_front_handler(&HttpListener::on_accept, shared_from_this()));
}

void HttpListener::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // Typically EMFILE under overload: back off instead of spinning on the error.
    spdlog::warn("http: accept failed: {}; retrying shortly", ec.message());
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([self = shared_from_this()](beast::error_code error) {
      if (!error) self->accept();
    });
    return;
  }
  if (context_->stopping()) {
    socket.close(ec);
  } else {
    admit(std::move(socket));
  }
  accept();
}

void HttpListener::admit(tcp::socket socket, int attempt) {
  beast::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) {
    socket.close(ec);  // already gone
    return;
  }
  const std::string client = client_key(peer.address());
  auto ticket = context_->connections.try_admit(client);
  if (ticket) {
    if (context_->options.tls) {
      std::make_shared<StreamSession<TlsStream>>(std::move(socket), context_, std::move(*ticket),
                                                 context_->options.tls->current())
          ->start();
    } else {
      std::make_shared<StreamSession<PlainStream>>(std::move(socket), context_, std::move(*ticket), nullptr)->start();
    }
    return;
  }
  const auto& limiter = context_->connections;
  const bool server_full = limiter.open_connections() >= limiter.max_total();
  // A full server makes room by closing the connection idle longest (keep-alive or never
  // used), so idle sockets cannot lock out clients with work. The closed session gives
  // its place back on its own strand, so this connection asks again a moment later.
  // A client at its own per-address cap gets no such help.
  if (server_full && attempt < kEvictionAttempts && pending_admissions_ < kMaxPendingAdmissions) {
    if (auto idle = context_->longest_idle()) {
      idle->stop_if_idle();
      ++pending_admissions_;
      auto timer = std::make_shared<net::steady_timer>(acceptor_.get_executor(), kEvictionWait);
      timer->async_wait([self = shared_from_this(), timer, socket = std::make_shared<tcp::socket>(std::move(socket)),
                         attempt](beast::error_code) mutable {
        --self->pending_admissions_;
        if (!self->acceptor_.is_open() || self->context_->stopping()) {
          beast::error_code ignored;
          socket->close(ignored);
          return;
        }
        self->admit(std::move(*socket), attempt + 1);
      });
      return;
    }
  }
  refuse(std::move(socket), client, server_full);
}

// Refused without a session: one non-blocking write (a fresh socket's send buffer
// takes it whole), then close. Nothing is read, so no request can hold us here.
void HttpListener::refuse(tcp::socket socket, const std::string& client, bool server_full) {
  spdlog::debug("http: refusing a connection from {}: connection cap reached", client);
  const auto& limiter = context_->connections;
  const std::string reason =
      server_full ? "the server has its maximum of " + std::to_string(limiter.max_total()) + " connections open"
                  : "this client address (" + client + ") has its maximum of " + std::to_string(limiter.max_per_address()) +
                        " connections open";
  const std::string answer = server_busy_bytes(reason, context_->options.busy_retry_after);
  beast::error_code ec;
  socket.non_blocking(true, ec);
  if (!ec) socket.write_some(net::buffer(answer), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

}  // namespace xoev::http
