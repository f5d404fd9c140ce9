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

#include "gateway/http/peer_certificate.h"
#include "gateway/http/refusals.h"
#include "gateway/http/responder.h"

namespace xoev::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::size_t kFirstReadSize = 8 * 1024;
// Beyond the header limit the read buffer only ever holds a chunk header, a trailer or
// pipelined bytes; this much room on top keeps reads efficient. A chunk header longer
// than the buffer (a huge chunk extension) fails with buffer_overflow, not with RAM.
constexpr std::size_t kReadRoom = 8 * 1024;
// Memory every connection may use without asking the shared budget, so requests
// without a body (health checks) are answered even when bodies have taken it all.
constexpr std::size_t kFreeBytesPerConnection = 16 * 1024;
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

template <class Stream>
StreamSession<Stream>::StreamSession(net::ip::tcp::socket&& socket, std::shared_ptr<ServerContext> context,
                                     ConnectionTicket ticket, std::shared_ptr<boost::asio::ssl::context> tls)
    : context_(std::move(context)),
      ticket_(std::move(ticket)),
      body_share_(context_->body_memory),
      tls_(std::move(tls)),
      stream_(make_stream(std::move(socket), tls_.get())),
      strand_(stream_.get_executor()) {
  beast::error_code ec;
  const auto peer = lowest().socket().remote_endpoint(ec);
  if (!ec) remote_address_ = peer.address().to_string();
  buffer_.max_size(context_->options.max_header_bytes + kReadRoom);
  chunk_header_check_ = [this](std::uint64_t size, beast::string_view extensions, beast::error_code& error) {
    check_chunk_header(size, extensions, error);
  };
}

template <class Stream>
StreamSession<Stream>::~StreamSession() { context_->remove_session(this); }

template <class Stream>
void StreamSession<Stream>::start() {
  context_->add_session(self());
  if constexpr (kTls) {
    net::dispatch(strand_, beast::bind_front_handler(&StreamSession::handshake, self()));
  } else {
    net::dispatch(strand_, beast::bind_front_handler(&StreamSession::wait_for_request, self()));
  }
}

// The handshake has its own deadline, so a client that connects and says nothing (or
// speaks TLS 1.0) holds its connection only that long.
template <class Stream>
void StreamSession<Stream>::handshake() {
  if constexpr (kTls) {
    phase_ = Phase::reading;
    lowest().expires_after(context_->options.handshake_timeout);
    stream_.async_handshake(net::ssl::stream_base::server,
                            beast::bind_front_handler(&StreamSession::on_handshake, self()));
  }
}

template <class Stream>
void StreamSession<Stream>::on_handshake(beast::error_code ec) {
  if constexpr (kTls) {
    if (ec) {
      spdlog::debug("http: TLS handshake with {} failed: {}", remote_address_, ec.message());
      return close();
    }
    peer_certificate_ = read_peer_certificate(stream_.native_handle());
    wait_for_request();
  }
}

template <class Stream>
void StreamSession<Stream>::post_response(HttpResponse response) {
  net::post(strand_, [me = self(), response = std::move(response)]() mutable {
    me->write_response(std::move(response));
  });
}

template <class Stream>
void StreamSession<Stream>::stop_if_idle() {
  net::post(strand_, [me = self()] {
    if (me->phase_ == Phase::waiting) me->close();
  });
}

template <class Stream>
void StreamSession<Stream>::abandon() { pending_self_.reset(); }

template <class Stream>
std::optional<std::chrono::steady_clock::time_point> StreamSession<Stream>::idle_since() const {
  const auto ticks = idle_since_.load(std::memory_order_relaxed);
  if (ticks == 0) return std::nullopt;
  return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(ticks));
}

// Between requests only the idle timeout applies; the read timeout starts with the
// first byte of a request, so a slow sender cannot stretch one request forever.
template <class Stream>
void StreamSession<Stream>::wait_for_request() {
  if (context_->stopping()) return close();
  phase_ = Phase::waiting;
  if (buffer_.size() > 0) return read_header();  // pipelined bytes already here
  lowest().expires_after(context_->options.idle_timeout);
  idle_since_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  stream_.async_read_some(buffer_.prepare(kFirstReadSize),
                          beast::bind_front_handler(&StreamSession::on_first_bytes, self()));
}

template <class Stream>
void StreamSession<Stream>::on_first_bytes(beast::error_code ec, std::size_t bytes) {
  idle_since_.store(0, std::memory_order_relaxed);
  if (ec) return close();
  buffer_.commit(bytes);
  read_header();
}

template <class Stream>
void StreamSession<Stream>::read_header() {
  phase_ = Phase::reading;
  const auto& options = context_->options;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(options.max_header_bytes, UINT32_MAX)));
  parser_->body_limit(options.max_body_bytes);  // also rejects a too-large Content-Length up front
  parser_->on_chunk_header(chunk_header_check_);
  header_done_ = false;
  chunk_extension_too_long_ = false;
  request_started_ = std::chrono::steady_clock::now();
  lowest().expires_at(request_started_ + std::min(options.header_timeout, options.read_timeout));
  read_more();
}

// Reads piecewise rather than with one async_read, so that after every piece the body's
// memory is taken from the shared budget before more is read.
template <class Stream>
void StreamSession<Stream>::read_more() {
  bhttp::async_read_some(stream_, buffer_, *parser_, beast::bind_front_handler(&StreamSession::on_read, self()));
}

template <class Stream>
void StreamSession<Stream>::on_read(beast::error_code ec, std::size_t) {
  if (ec) return on_read_error(ec);
  if (!body_share_.resize(footprint())) {
    return reject(server_busy("the server holds its limit of " + std::to_string(context_->body_memory.limit()) +
                                  " bytes of request bodies; retry later",
                              context_->options.busy_retry_after));
  }
  if (!header_done_ && parser_->is_header_done()) {
    header_done_ = true;
    return on_header();
  }
  if (!parser_->is_done()) return read_more();
  lowest().expires_never();  // the Handler may take its time; nothing is read meanwhile
  dispatch(parser_->release());
  parser_.reset();
}

template <class Stream>
void StreamSession<Stream>::on_header() {
  lowest().expires_at(request_started_ + context_->options.read_timeout);
  const auto& message = parser_->get();
  const bool wants_continue =
      message.version() >= 11 && beast::iequals(message[bhttp::field::expect], "100-continue") && !parser_->is_done();
  if (!wants_continue) return on_read({}, 0);
  auto interim = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
  bhttp::async_write(stream_, *interim, [me = self(), interim](beast::error_code error, std::size_t) {
    if (error) return me->close();
    me->read_more();
  });
}

template <class Stream>
std::size_t StreamSession<Stream>::footprint() const {
  std::size_t bytes = buffer_.capacity();
  if (parser_) {
    // A Content-Length is reserved whole as soon as the first body byte arrives; count
    // it from the header on, so such a request is refused before its body is sent.
    const auto announced = parser_->is_header_done() ? parser_->content_length() : boost::none;
    bytes += std::max<std::size_t>(parser_->get().body().capacity(), static_cast<std::size_t>(announced.value_or(0)));
  }
  return bytes > kFreeBytesPerConnection ? bytes - kFreeBytesPerConnection : 0;
}

template <class Stream>
void StreamSession<Stream>::check_chunk_header(std::uint64_t, beast::string_view extensions, beast::error_code& ec) {
  if (extensions.size() <= context_->options.max_chunk_extension_bytes) return;
  chunk_extension_too_long_ = true;
  ec = bhttp::error::bad_chunk_extension;
}

template <class Stream>
void StreamSession<Stream>::on_read_error(beast::error_code ec) {
  const auto& options = context_->options;
  if (ec == bhttp::error::body_limit) {
    return reject(Problem::make(ProblemKind::payload_too_large,
                                "the body exceeds the limit of " + std::to_string(options.max_body_bytes) + " bytes"));
  }
  if (ec == bhttp::error::header_limit) return reject(header_too_large(options.max_header_bytes));
  if (chunk_extension_too_long_) {
    return reject(Problem::make(ProblemKind::bad_request, "a chunk extension exceeds " +
                                                              std::to_string(options.max_chunk_extension_bytes) +
                                                              " bytes"));
  }
  if (ec == bhttp::error::buffer_overflow) {
    return reject(Problem::make(ProblemKind::bad_request, "a chunk header or trailer exceeds " +
                                                              std::to_string(buffer_.max_size()) + " bytes"));
  }
  if (is_disconnect_or_timeout(ec)) {
    spdlog::debug("http: {} closed while reading a request: {}", remote_address_, ec.message());
    return close();
  }
  if (is_http_error(ec)) return reject(Problem::make(ProblemKind::bad_request, "malformed HTTP request: " + ec.message()));
  spdlog::debug("http: {} read failed: {}", remote_address_, ec.message());
  close();
}

template <class Stream>
void StreamSession<Stream>::dispatch(Request&& message) {
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  request.path = path_of(request.target);
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  request.remote_address = remote_address_;
  request.tls = kTls;
  request.client_certificate = peer_certificate_;
  version_ = message.version();
  keep_alive_ = message.keep_alive();
  path_ = request.path;
  const std::string method = request.method;

  phase_ = Phase::handling;
  pending_self_ = self();
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

template <class Stream>
void StreamSession<Stream>::write_response(HttpResponse answer) {
  pending_self_.reset();
  if (phase_ != Phase::handling) return;
  body_share_.resize(footprint());  // the request is answered: its body is no longer held
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
  lowest().expires_after(context_->options.read_timeout);
  bhttp::async_write(stream_, response_,
                     beast::bind_front_handler(&StreamSession::on_written, self(), keep_alive));
}

template <class Stream>
void StreamSession<Stream>::on_written(bool keep_alive, beast::error_code ec, std::size_t) {
  response_ = {};
  if (ec || !keep_alive) return close();
  wait_for_request();
}

template <class Stream>
void StreamSession<Stream>::reject(const Problem& problem) {
  if (const auto& hook = context_->options.on_refused) {
    std::string target;
    if (parser_ && parser_->is_header_done()) target = std::string(parser_->get().target().substr(0, 256));
    try {
      hook(problem, target, remote_address_);
    } catch (...) {  // an observer must not take the connection down
    }
  }
  reject(HttpResponse::problem(problem));
}

template <class Stream>
void StreamSession<Stream>::reject(const HttpResponse& answer) {
  phase_ = Phase::writing;
  parser_.reset();
  body_share_.resize(footprint());
  response_ = {};
  response_.version(11);
  response_.result(static_cast<unsigned>(answer.status));
  response_.set(bhttp::field::server, "xoevgate");
  response_.set(bhttp::field::content_type, answer.content_type);
  for (const auto& [name, value] : answer.headers) response_.insert(name, value);
  response_.body() = answer.body;
  response_.content_length(response_.body().size());
  response_.keep_alive(false);
  lowest().expires_after(context_->options.read_timeout);
  bhttp::async_write(stream_, response_, beast::bind_front_handler(&StreamSession::on_rejected, self()));
}

template <class Stream>
void StreamSession<Stream>::on_rejected(beast::error_code ec, std::size_t) {
  if (ec) return close();
  lowest().socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  lowest().expires_after(std::min<std::chrono::steady_clock::duration>(kLingerTime, context_->options.read_timeout));
  linger();
}

template <class Stream>
void StreamSession<Stream>::linger() {
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(std::min<std::size_t>(64 * 1024, buffer_.max_size())), beast::bind_front_handler(&StreamSession::on_linger, self()));
}

template <class Stream>
void StreamSession<Stream>::on_linger(beast::error_code ec, std::size_t bytes) {
  lingered_bytes_ += bytes;
  if (ec || lingered_bytes_ > kLingerBytes) return close();
  linger();
}

template <class Stream>
void StreamSession<Stream>::close() {
  phase_ = Phase::closed;
  beast::error_code ignored;
  lowest().socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  lowest().close();
}

template class StreamSession<PlainStream>;
template class StreamSession<TlsStream>;

}  // namespace xoev::http
