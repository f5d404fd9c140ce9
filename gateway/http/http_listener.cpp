#include "gateway/http/http_listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "gateway/http/http_session.h"

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
    std::make_shared<HttpSession>(std::move(socket), context_)->start();
  }
  accept();
}

}  // namespace xoev::http
