// One accepted connection: reads requests one after another (keep-alive), hands each to
// the Handler, writes its answer. Owns its socket, buffer and parser; async steps keep
// it alive through shared_from_this, and it runs on its own strand. What it holds is
// bounded: its read buffer by the header limit, its body by the shared MemoryBudget,
// its lifetime by the handshake/header/read/idle timeouts, its existence by its
// ConnectionTicket. A request on a streaming route (body_stream.h) instead hands its body
// to a BodyStream piece by piece through one fixed piece buffer, reading on only when
// the application asks for more. StreamSession is the one implementation, over plain TCP or TLS;
// HttpSession is what the server, the Responders and the eviction logic see.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "gateway/http/body_stream.h"
#include "gateway/http/server_context.h"

namespace xoev::http {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  virtual ~HttpSession() = default;

  virtual void start() = 0;
  // Any thread: queues the answer to the request being handled.
  virtual void post_response(HttpResponse response) = 0;
  // Any thread: closes the connection if it is only waiting for a next request.
  virtual void stop_if_idle() = 0;
  // Any thread: when the connection began waiting for its next request (steady clock),
  // or nullopt while a request is being read, handled or answered.
  virtual std::optional<std::chrono::steady_clock::time_point> idle_since() const = 0;
  // Server teardown, after the I/O threads are joined: forget an unanswered request.
  virtual void abandon() = 0;
};

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

template <class Stream>
class StreamSession final : public HttpSession {
 public:
  // `tls` is the context for this connection (null for PlainStream); the session keeps
  // it, so a reload that swaps the server's context never pulls it from under a session.
  StreamSession(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<ServerContext> context, ConnectionTicket ticket,
                std::shared_ptr<boost::asio::ssl::context> tls);
  ~StreamSession() override;
  StreamSession(const StreamSession&) = delete;
  StreamSession& operator=(const StreamSession&) = delete;

  void start() override;
  void post_response(HttpResponse response) override;
  void stop_if_idle() override;
  std::optional<std::chrono::steady_clock::time_point> idle_since() const override;
  void abandon() override;

 private:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using StreamParser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;
  // streaming: a streamed body is being read or waits for the application's more().
  enum class Phase { waiting, reading, streaming, handling, writing, closed };

  static Stream make_stream(boost::asio::ip::tcp::socket&& socket, boost::asio::ssl::context* tls) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *tls);
    } else {
      (void)tls;
      return Stream(std::move(socket));
    }
  }
  boost::beast::tcp_stream& lowest() { return boost::beast::get_lowest_layer(stream_); }
  std::shared_ptr<StreamSession> self() { return std::static_pointer_cast<StreamSession>(shared_from_this()); }

  void handshake();
  void on_handshake(boost::beast::error_code ec);
  void wait_for_request();
  void on_first_bytes(boost::beast::error_code ec, std::size_t bytes);
  void read_header();
  void read_more();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void on_header();
  // False after refusing the request with 503: the shared body budget is exhausted.
  bool take_budget();
  void send_continue_then(void (StreamSession::*next)());
  HttpRequest describe(const Request& message) const;
  const StreamRoute* stream_route_for(const Request& message) const;
  void start_stream(const StreamRoute& route);
  void read_piece();
  void on_piece_read(boost::beast::error_code ec, std::size_t bytes);
  // True if bytes are waiting in the socket, so the next read will not wait.
  bool bytes_waiting();
  void hand_over_piece(std::size_t bytes);
  std::function<void()> make_more(std::uint64_t piece_number);
  void on_more(std::uint64_t piece_number);
  void on_pause_expired(std::uint64_t piece_number);
  void end_stream();
  void fail_stream(boost::beast::error_code ec);
  // Tells the BodyStream (if any) that its body will not complete, once.
  void abort_stream(std::string_view why);
  Problem stream_too_large() const;
  void on_read_error(boost::beast::error_code ec);
  // Memory this connection's request occupies beyond the free allowance.
  std::size_t footprint() const;
  void check_chunk_header(std::uint64_t size, boost::beast::string_view extensions, boost::beast::error_code& ec);
  void dispatch(Request&& message);
  void write_response(HttpResponse response);
  void on_written(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);
  // After the header and `body`: the answer's file range, a piece at a time, then body_after.
  void write_file_tail(bool keep_alive);
  void reject(const Problem& problem);
  void reject(const HttpResponse& answer);
  void on_rejected(boost::beast::error_code ec, std::size_t bytes);
  void linger();
  void on_linger(boost::beast::error_code ec, std::size_t bytes);
  void close();

  std::shared_ptr<ServerContext> context_;
  ConnectionTicket ticket_;
  BudgetShare body_share_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // before stream_, which refers to it
  Stream stream_;
  const boost::asio::any_io_executor strand_;
  boost::asio::steady_timer pause_timer_;  // bounds the wait for a BodyStream's more()
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::optional<StreamParser> stream_parser_;  // instead of parser_ while a body streams
  std::unique_ptr<BodyStream> body_;           // the application's sink, until on_end/on_abort
  std::vector<char> piece_;                    // the one buffer a streamed body passes through
  std::size_t piece_fill_ = 0;                 // bytes in piece_ not handed over yet
  std::uint64_t streamed_bytes_ = 0;
  std::uint64_t pieces_ = 0;  // pieces handed over; a more() names its piece
  bool awaiting_more_ = false;
  bool body_done_ = false;
  bool drain_after_answer_ = false;  // answered without reading the body: linger, then close
  std::function<void(std::uint64_t, boost::beast::string_view, boost::beast::error_code&)> chunk_header_check_;
  bool header_done_ = false;
  bool chunk_extension_too_long_ = false;
  std::chrono::steady_clock::time_point request_started_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  struct FileTail {
    std::shared_ptr<const FileRange> file;
    std::string after;
    std::uint64_t sent = 0;  // file bytes written
    bool after_sent = false;
    std::vector<char> piece;
  };
  std::optional<FileTail> file_tail_;  // set while an answer's file range is being written
  std::string remote_address_;
  std::optional<PeerCertificate> peer_certificate_;  // what the TLS handshake showed
  Phase phase_ = Phase::waiting;
  // idle_since() for other threads: steady-clock ticks, 0 while busy.
  std::atomic<std::chrono::steady_clock::rep> idle_since_{0};
  unsigned version_ = 11;
  bool keep_alive_ = true;
  std::string path_;
  std::size_t lingered_bytes_ = 0;
  std::shared_ptr<HttpSession> pending_self_;  // alive while the Handler owes an answer
};

extern template class StreamSession<PlainStream>;
extern template class StreamSession<TlsStream>;

}  // namespace xoev::http
