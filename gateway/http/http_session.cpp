#include "gateway/http/http_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <utility>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
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
// A streamed body passes through one buffer of this size per connection, whatever the
// body's size; it is what the memory budget counts for such a request.
constexpr std::size_t kPieceBytes = 256 * 1024;
// Beast reads at most the read buffer's capacity at a time; the header left it at a few
// KiB, so a streamed body would arrive in pieces of that size, each a round trip
// through the application's thread. While a body streams the buffer may hold this much.
constexpr std::size_t kStreamReadBytes = 64 * 1024;

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
      strand_(stream_.get_executor()),
      pause_timer_(strand_) {
  beast::error_code ec;
  const auto peer = lowest().socket().remote_endpoint(ec);
  if (!ec) remote_address_ = peer.address().to_string();
  buffer_.max_size(context_->options.max_header_bytes + kReadRoom);
  chunk_header_check_ = [this](std::uint64_t size, beast::string_view extensions, beast::error_code& error) {
    check_chunk_header(size, extensions, error);
  };
}

template <class Stream>
StreamSession<Stream>::~StreamSession() {
  abort_stream("the server stopped");
  context_->remove_session(this);
}

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
  // The limit depends on whether the body streams, known after the header (on_header).
  // (Not boost::none: Boost 1.74 compares a Content-Length against it as "greater".)
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
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
  if (!header_done_ && parser_->is_header_done()) {
    header_done_ = true;
    return on_header();
  }
  if (!take_budget()) return;
  if (!parser_->is_done()) return read_more();
  lowest().expires_never();  // the Handler may take its time; nothing is read meanwhile
  dispatch(parser_->release());
  parser_.reset();
}

template <class Stream>
bool StreamSession<Stream>::take_budget() {
  if (body_share_.resize(footprint())) return true;
  reject(server_busy("the server holds its limit of " + std::to_string(context_->body_memory.limit()) +
                         " bytes of request bodies; retry later",
                     context_->options.busy_retry_after));
  return false;
}

template <class Stream>
void StreamSession<Stream>::on_header() {
  const auto& options = context_->options;
  lowest().expires_at(request_started_ + options.read_timeout);
  const auto& message = parser_->get();
  if (const auto* route = stream_route_for(message)) return start_stream(*route);
  if (const auto length = parser_->content_length(); length && *length > options.max_body_bytes) {
    return on_read_error(bhttp::error::body_limit);  // refused before the body is sent
  }
  parser_->body_limit(options.max_body_bytes);  // a chunked body is counted as it comes
  if (!take_budget()) return;
  const bool wants_continue =
      message.version() >= 11 && beast::iequals(message[bhttp::field::expect], "100-continue") && !parser_->is_done();
  if (!wants_continue) return on_read({}, 0);
  send_continue_then(&StreamSession::read_more);
}

template <class Stream>
void StreamSession<Stream>::send_continue_then(void (StreamSession::*next)()) {
  auto interim = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
  bhttp::async_write(stream_, *interim, [me = self(), interim, next](beast::error_code error, std::size_t) {
    if (error) {
      me->abort_stream("the client went away: " + error.message());
      return me->close();
    }
    ((*me).*next)();
  });
}

template <class Stream>
HttpRequest StreamSession<Stream>::describe(const Request& message) const {
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  request.path = path_of(request.target);
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.remote_address = remote_address_;
  request.tls = kTls;
  request.client_certificate = peer_certificate_;
  return request;
}

template <class Stream>
const StreamRoute* StreamSession<Stream>::stream_route_for(const Request& message) const {
  if (!context_->stream_routes) return nullptr;
  const auto length = parser_->content_length();
  const bool chunked = parser_->chunked();
  if (!chunked && !length) return nullptr;  // no body at all
  const auto method = message.method_string();
  const auto* route = context_->stream_routes(std::string_view(method.data(), method.size()),
                                              path_of(std::string_view(message.target().data(), message.target().size())));
  if (route == nullptr || !route->handler) return nullptr;
  return chunked || *length > route->stream_above_bytes ? route : nullptr;
}

template <class Stream>
Problem StreamSession<Stream>::stream_too_large() const {
  return Problem::make(ProblemKind::payload_too_large,
                       "the body exceeds the limit of " + std::to_string(context_->options.max_stream_bytes) + " bytes");
}

// The application sees the header first and decides: stream the body to a BodyStream, or
// answer at once (the body then stays unread and the connection closes after the answer).
template <class Stream>
void StreamSession<Stream>::start_stream(const StreamRoute& route) {
  const auto& options = context_->options;
  const auto& message = parser_->get();
  if (const auto length = parser_->content_length(); length && *length > options.max_stream_bytes) {
    return reject(stream_too_large());
  }
  const bool wants_continue = message.version() >= 11 && beast::iequals(message[bhttp::field::expect], "100-continue");
  const HttpRequest head = describe(message);
  version_ = message.version();
  keep_alive_ = message.keep_alive();
  path_ = head.path;

  phase_ = Phase::handling;
  lowest().expires_never();
  auto [respond, withdraw] = make_withdrawable_responder(weak_from_this(), context_, path_);
  std::unique_ptr<BodyStream> body;
  try {
    body = route.handler(head, respond);
  } catch (const std::exception& e) {
    spdlog::error("http: streaming handler for {} {} threw: {}", head.method, path_, e.what());
    body.reset();
    respond(HttpResponse::problem(Problem::make(ProblemKind::internal, "the request handler failed"), path_));
  } catch (...) {
    spdlog::error("http: streaming handler for {} {} threw a non-standard exception", head.method, path_);
    body.reset();
    respond(HttpResponse::problem(Problem::make(ProblemKind::internal, "the request handler failed"), path_));
  }
  if (!body) {
    parser_.reset();
    keep_alive_ = false;
    drain_after_answer_ = true;
    pending_self_ = self();  // until the answer, which may come from another thread
    return;
  }
  withdraw();
  body_ = std::move(body);
  stream_parser_.emplace(std::move(*parser_));
  parser_.reset();
  stream_parser_->body_limit(options.max_stream_bytes);  // counts a chunked body as it comes
  stream_parser_->on_chunk_header(chunk_header_check_);
  streamed_bytes_ = 0;
  body_done_ = false;
  awaiting_more_ = false;
  piece_.resize(kPieceBytes);
  piece_fill_ = 0;
  buffer_.reserve(std::min(kStreamReadBytes, buffer_.max_size()));
  phase_ = Phase::streaming;
  if (!take_budget()) return;
  if (wants_continue) return send_continue_then(&StreamSession::read_piece);
  read_piece();
}

// Only while the session wants bytes does the read timeout run: it bounds the time
// between bytes, not the whole body, which may take hours for a large one.
template <class Stream>
void StreamSession<Stream>::read_piece() {
  lowest().expires_after(context_->options.read_timeout);
  auto& body = stream_parser_->get().body();
  body.data = piece_.data() + piece_fill_;
  body.size = piece_.size() - piece_fill_;
  body.more = true;
  bhttp::async_read_some(stream_, buffer_, *stream_parser_,
                         beast::bind_front_handler(&StreamSession::on_piece_read, self()));
}

template <class Stream>
void StreamSession<Stream>::on_piece_read(beast::error_code ec, std::size_t) {
  if (ec == bhttp::error::need_buffer) ec = {};  // the piece is full
  if (ec) return fail_stream(ec);
  if (phase_ != Phase::streaming || !body_) return;
  const std::size_t filled = piece_.size() - stream_parser_->get().body().size;
  streamed_bytes_ += filled - piece_fill_;
  piece_fill_ = filled;
  if (streamed_bytes_ > context_->options.max_stream_bytes) return reject(stream_too_large());
  body_done_ = stream_parser_->is_done();
  // Bytes already waiting in the socket go into the same piece first: one hand-over per
  // piece, not one per TCP segment, while the sender is ahead of us.
  if (!body_done_ && piece_fill_ < piece_.size() && bytes_waiting()) return read_piece();
  if (piece_fill_ > 0) return hand_over_piece(std::exchange(piece_fill_, 0));
  if (body_done_) return end_stream();
  read_piece();
}

// Only the socket counts: bytes left in buffer_ may be an incomplete chunk header that
// the parser can do nothing with until more arrives, and waiting for that would hold
// back the piece.
template <class Stream>
bool StreamSession<Stream>::bytes_waiting() {
  beast::error_code ec;
  return lowest().socket().available(ec) > 0 && !ec;
}

template <class Stream>
void StreamSession<Stream>::hand_over_piece(std::size_t bytes) {
  lowest().expires_never();  // waiting for the application is bounded by max_stream_pause instead
  const auto number = ++pieces_;
  awaiting_more_ = true;
  pause_timer_.expires_after(context_->options.max_stream_pause);
  pause_timer_.async_wait([me = self(), number](beast::error_code ec) {
    if (!ec) me->on_pause_expired(number);
  });
  try {
    body_->on_piece(std::string_view(piece_.data(), bytes), make_more(number));
  } catch (const std::exception& e) {
    spdlog::error("http: body stream for {} threw: {}", path_, e.what());
    reject(HttpResponse::problem(Problem::make(ProblemKind::internal, "the request handler failed"), path_));
  } catch (...) {
    spdlog::error("http: body stream for {} threw a non-standard exception", path_);
    reject(HttpResponse::problem(Problem::make(ProblemKind::internal, "the request handler failed"), path_));
  }
}

// Like a Responder, more() holds the session weakly and never posts to a dead server.
template <class Stream>
std::function<void()> StreamSession<Stream>::make_more(std::uint64_t piece_number) {
  auto called = std::make_shared<std::atomic<bool>>(false);
  return [weak = weak_from_this(), context = context_, piece_number, called] {
    if (called->exchange(true)) return;
    context->while_alive([&] {
      auto base = weak.lock();
      if (!base) return;
      auto me = std::static_pointer_cast<StreamSession>(base);
      net::post(me->strand_, [me, piece_number] { me->on_more(piece_number); });
    });
  };
}

template <class Stream>
void StreamSession<Stream>::on_more(std::uint64_t piece_number) {
  if (phase_ != Phase::streaming || !awaiting_more_ || piece_number != pieces_ || !body_) return;
  awaiting_more_ = false;
  pause_timer_.cancel();
  if (body_done_) return end_stream();
  read_piece();
}

template <class Stream>
void StreamSession<Stream>::on_pause_expired(std::uint64_t piece_number) {
  if (phase_ != Phase::streaming || !awaiting_more_ || piece_number != pieces_) return;
  const auto& options = context_->options;
  spdlog::warn("http: body of {} from {} paused for more than {} s; giving up", path_, remote_address_,
               options.max_stream_pause.count());
  abort_stream("the application did not take the next piece within max_stream_pause");
  reject(server_busy("the server could not take the body in time; retry later", options.busy_retry_after));
}

template <class Stream>
void StreamSession<Stream>::end_stream() {
  phase_ = Phase::handling;
  lowest().expires_never();  // the application may take its time to answer
  pause_timer_.cancel();
  stream_parser_.reset();
  std::vector<char>().swap(piece_);
  body_share_.resize(footprint());
  auto body = std::move(body_);
  pending_self_ = self();
  Responder respond = make_responder(weak_from_this(), context_, path_);
  try {
    body->on_end(respond);
  } catch (const std::exception& e) {
    spdlog::error("http: body stream for {} threw at its end: {}", path_, e.what());
    respond(HttpResponse::problem(Problem::make(ProblemKind::internal, "the request handler failed"), path_));
  } catch (...) {
    spdlog::error("http: body stream for {} threw a non-standard exception at its end", path_);
    respond(HttpResponse::problem(Problem::make(ProblemKind::internal, "the request handler failed"), path_));
  }
}

template <class Stream>
void StreamSession<Stream>::fail_stream(beast::error_code ec) {
  if (ec == bhttp::error::body_limit) return reject(stream_too_large());
  abort_stream(chunk_extension_too_long_ ? "a chunk extension is too long" : ec.message());
  on_read_error(ec);
}

template <class Stream>
void StreamSession<Stream>::abort_stream(std::string_view why) {
  pause_timer_.cancel();
  auto body = std::move(body_);
  if (!body) return;
  try {
    body->on_abort(why);
  } catch (...) {  // the connection is going away anyway
    spdlog::error("http: body stream for {} threw in on_abort", path_);
  }
}

template <class Stream>
std::size_t StreamSession<Stream>::footprint() const {
  std::size_t bytes = buffer_.capacity() + piece_.capacity();
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
  HttpRequest request = describe(message);
  request.body = std::move(message.body());
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
  } else if (answer.body_file) {
    // Beast writes the header and `body`; the rest follows from on_written.
    response_.content_length(answer.body.size() + answer.body_file->length() + answer.body_after.size());
    file_tail_.emplace(FileTail{std::move(answer.body_file), std::move(answer.body_after), 0, false, {}});
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
  if (!ec && file_tail_) return write_file_tail(keep_alive);
  file_tail_.reset();
  if (!ec && drain_after_answer_) {
    drain_after_answer_ = false;
    return on_rejected(ec, 0);  // the client may still be sending the body we did not read
  }
  if (ec || !keep_alive) return close();
  wait_for_request();
}

template <class Stream>
void StreamSession<Stream>::write_file_tail(bool keep_alive) {
  static constexpr std::size_t kFilePieceBytes = 256 * 1024;
  FileTail& tail = *file_tail_;
  auto next = [me = self(), keep_alive](beast::error_code ec, std::size_t) {
    if (ec) {
      me->file_tail_.reset();
      return me->close();
    }
    me->write_file_tail(keep_alive);
  };
  lowest().expires_after(context_->options.read_timeout);
  if (tail.sent < tail.file->length()) {
    tail.piece.resize(kFilePieceBytes);
    auto n = tail.file->read(tail.sent, tail.piece);
    if (!n || *n == 0) {
      // The status line is out: the client learns of it only from the short body.
      spdlog::error("http: answer to {} cut short after {} of {} file bytes: {}", path_, tail.sent,
                    tail.file->length(), n ? "end of file" : n.problem().detail);
      file_tail_.reset();
      return close();
    }
    tail.sent += *n;
    return net::async_write(stream_, net::buffer(tail.piece.data(), *n), std::move(next));
  }
  if (!tail.after_sent && !tail.after.empty()) {
    tail.after_sent = true;
    return net::async_write(stream_, net::buffer(tail.after), std::move(next));
  }
  file_tail_.reset();
  on_written(keep_alive, {}, 0);
}

template <class Stream>
void StreamSession<Stream>::reject(const Problem& problem) {
  abort_stream(problem.detail);
  if (const auto& hook = context_->options.on_refused) {
    std::string target;
    if (parser_ && parser_->is_header_done()) target = std::string(parser_->get().target().substr(0, 256));
    if (stream_parser_) target = std::string(stream_parser_->get().target().substr(0, 256));
    try {
      hook(problem, target, remote_address_);
    } catch (...) {  // an observer must not take the connection down
    }
  }
  reject(HttpResponse::problem(problem));
}

template <class Stream>
void StreamSession<Stream>::reject(const HttpResponse& answer) {
  abort_stream("the server refused the request with HTTP " + std::to_string(answer.status));
  phase_ = Phase::writing;
  parser_.reset();
  stream_parser_.reset();
  std::vector<char>().swap(piece_);
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
  abort_stream("the connection closed");
  phase_ = Phase::closed;
  beast::error_code ignored;
  lowest().socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  lowest().close();
}

template class StreamSession<PlainStream>;
template class StreamSession<TlsStream>;

}  // namespace xoev::http
