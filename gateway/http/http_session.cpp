#include "gateway/http/http_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "gateway/http/responder.h"

namespace xoev::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::size_t kHeaderLimit = 64 * 1024;  // room for long bearer tokens
constexpr std::size_t kFirstReadSize = 8 * 1024;
// After an error answer the client may still be sending its body; closing with unread
// data makes the kernel send RST, which can destroy our answer before the client reads
// it. So we read and discard for a while first (bounded in time and bytes).
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::size_t kLingerBytes = 64u << 20;

bool is_http_error(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category();
}

bool is_disconnect_or_timeout(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || ec == net::error::eof ||
         ec == beast::error::timeout || ec == net::error::operation_aborted || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe;
}

}  // namespace

HttpSession::HttpSession(net::ip::tcp::socket&& socket, std::shared_ptr<ServerContext> context)
    : context_(std::move(context)), stream_(std::move(socket)), strand_(stream_.get_executor()) {
  beast::error_code ec;
  const auto peer = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_address_ = peer.address().to_string();
}

HttpSession::~HttpSession() { context_->remove_session(this); }

void HttpSession::start() {
  context_->add_session(shared_from_this());
  net::dispatch(strand_, beast::bind_front_handler(&HttpSession::wait_for_request, shared_from_this()));
}

void HttpSession::post_response(HttpResponse response) {
  net::post(strand_, [self = shared_from_this(), response = std::move(response)]() mutable {
    self->write_response(std::move(response));
  });
}

void HttpSession::stop_if_idle() {
  net::post(strand_, [self = shared_from_this()] {
    if (self->phase_ == Phase::waiting) self->close();
  });
}

void HttpSession::abandon() { pending_self_.reset(); }

// Between requests only the idle timeout applies; the read timeout starts with the
// first byte of a request, so a slow sender cannot stretch one request forever.
void HttpSession::wait_for_request() {
  if (context_->stopping()) return close();
  phase_ = Phase::waiting;
  if (buffer_.size() > 0) return read_header();  // pipelined bytes already here
  stream_.expires_after(context_->options.idle_timeout);
  stream_.async_read_some(buffer_.prepare(kFirstReadSize),
                          beast::bind_front_handler(&HttpSession::on_first_bytes, shared_from_this()));
}

void HttpSession::on_first_bytes(beast::error_code ec, std::size_t bytes) {
  if (ec) return close();
  buffer_.commit(bytes);
  read_header();
}

void HttpSession::read_header() {
  phase_ = Phase::reading;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(kHeaderLimit));
  parser_->body_limit(context_->options.max_body_bytes);  // also rejects a too-large Content-Length up front
  stream_.expires_after(context_->options.read_timeout);
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           beast::bind_front_handler(&HttpSession::on_header, shared_from_this()));
}

void HttpSession::on_header(beast::error_code ec, std::size_t) {
  if (ec) return on_read_error(ec);
  const auto& message = parser_->get();
  const bool wants_continue =
      message.version() >= 11 && beast::iequals(message[bhttp::field::expect], "100-continue") && !parser_->is_done();
  if (!wants_continue) return read_body();
  auto interim = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
  bhttp::async_write(stream_, *interim, [self = shared_from_this(), interim](beast::error_code error, std::size_t) {
    if (error) return self->close();
    self->read_body();
  });
}

void HttpSession::read_body() {
  bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_body, shared_from_this()));
}

void HttpSession::on_body(beast::error_code ec, std::size_t) {
  if (ec) return on_read_error(ec);
  stream_.expires_never();  // the Handler may take its time; nothing is read meanwhile
  dispatch(parser_->release());
  parser_.reset();
}

void HttpSession::on_read_error(beast::error_code ec) {
  if (ec == bhttp::error::body_limit) {
    return reject(Problem::make(ProblemKind::payload_too_large, "the body exceeds the limit of " +
                                                                    std::to_string(context_->options.max_body_bytes) +
                                                                    " bytes"));
  }
  if (ec == bhttp::error::header_limit) {
    return reject(Problem::make(ProblemKind::bad_request,
                                "the request header exceeds " + std::to_string(kHeaderLimit) + " bytes"));
  }
  if (is_disconnect_or_timeout(ec)) {
    spdlog::debug("http: {} closed while reading a request: {}", remote_address_, ec.message());
    return close();
  }
  if (is_http_error(ec)) return reject(Problem::make(ProblemKind::bad_request, "malformed HTTP request: " + ec.message()));
  spdlog::debug("http: {} read failed: {}", remote_address_, ec.message());
  close();
}

void HttpSession::dispatch(Request&& message) {
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  request.path = path_of(request.target);
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  request.remote_address = remote_address_;
  version_ = message.version();
  keep_alive_ = message.keep_alive();
  path_ = request.path;
  const std::string method = request.method;

  phase_ = Phase::handling;
  pending_self_ = shared_from_this();
  Responder respond = make_responder(weak_from_this(), context_, path_);
  try {
    context_->handler(std::move(request), respond);
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} {} threw: {}", method, path_, e.what());
    respond(HttpResponse::problem(Problem::make(ProblemKind::internal, "the request handler failed"), path_));
  } catch (...) {
    spdlog::error("http: handler for {} {} threw a non-standard exception", method, path_);
    respond(HttpResponse::problem(Problem::make(ProblemKind::internal, "the request handler failed"), path_));
  }
}

void HttpSession::write_response(HttpResponse answer) {
  pending_self_.reset();
  if (phase_ != Phase::handling) return;
  if (answer.status < 200 || answer.status > 599) {
    spdlog::error("http: handler for {} answered with invalid status {}", path_, answer.status);
    answer = HttpResponse::problem(Problem::make(ProblemKind::internal, "the request handler gave an invalid status"),
                                   path_);
  }
  phase_ = Phase::writing;
  response_ = {};
  response_.version(version_);
  response_.result(static_cast<unsigned>(answer.status));
  response_.set(bhttp::field::server, "xoevgate");
  if (!answer.content_type.empty()) response_.set(bhttp::field::content_type, answer.content_type);
  for (const auto& [name, value] : answer.headers) {
    // Framing is ours: a handler's own length or connection fields would contradict it.
    if (iequals(name, "content-length") || iequals(name, "transfer-encoding") || iequals(name, "connection")) continue;
    response_.insert(name, value);
  }
  if (answer.status == 204 || answer.status == 304) {
    answer.body.clear();  // these carry no body and, per RFC 9110, no Content-Length
  } else {
    response_.content_length(answer.body.size());
  }
  response_.body() = std::move(answer.body);
  const bool keep_alive = keep_alive_ && !context_->stopping();
  response_.keep_alive(keep_alive);
  stream_.expires_after(context_->options.read_timeout);
  bhttp::async_write(stream_, response_,
                     beast::bind_front_handler(&HttpSession::on_written, shared_from_this(), keep_alive));
}

void HttpSession::on_written(bool keep_alive, beast::error_code ec, std::size_t) {
  response_ = {};
  if (ec || !keep_alive) return close();
  wait_for_request();
}

void HttpSession::reject(const Problem& problem) {
  phase_ = Phase::writing;
  const HttpResponse answer = HttpResponse::problem(problem);
  response_ = {};
  response_.version(11);
  response_.result(static_cast<unsigned>(answer.status));
  response_.set(bhttp::field::server, "xoevgate");
  response_.set(bhttp::field::content_type, answer.content_type);
  response_.body() = answer.body;
  response_.content_length(response_.body().size());
  response_.keep_alive(false);
  stream_.expires_after(context_->options.read_timeout);
  bhttp::async_write(stream_, response_, beast::bind_front_handler(&HttpSession::on_rejected, shared_from_this()));
}

void HttpSession::on_rejected(beast::error_code ec, std::size_t) {
  if (ec) return close();
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  stream_.expires_after(std::min<std::chrono::steady_clock::duration>(kLingerTime, context_->options.read_timeout));
  linger();
}

void HttpSession::linger() {
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(64 * 1024), beast::bind_front_handler(&HttpSession::on_linger, shared_from_this()));
}

void HttpSession::on_linger(beast::error_code ec, std::size_t bytes) {
  lingered_bytes_ += bytes;
  if (ec || lingered_bytes_ > kLingerBytes) return close();
  linger();
}

void HttpSession::close() {
  phase_ = Phase::closed;
  beast::error_code ignored;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
}

}  // namespace xoev::http
