// One accepted connection: reads requests one after another (keep-alive), hands each to
// the Handler, writes its answer. Owns its socket, buffer and parser; async steps keep
// it alive through shared_from_this, and it runs on its own strand. What it holds is
// bounded: its read buffer by the header limit, its body by the shared MemoryBudget,
// its lifetime by the header/read/idle timeouts, its existence by its ConnectionTicket.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "gateway/http/server_context.h"

namespace xoev::http {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<ServerContext> context, ConnectionTicket ticket);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  void start();
  // Any thread: queues the answer to the request being handled.
  void post_response(HttpResponse response);
  // Any thread: closes the connection if it is only waiting for a next request.
  void stop_if_idle();
  // Any thread: when the connection began waiting for its next request (steady clock),
  // or nullopt while a request is being read, handled or answered.
  std::optional<std::chrono::steady_clock::time_point> idle_since() const;
  // Server teardown, after the I/O threads are joined: forget an unanswered request.
  void abandon();

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  enum class Phase { waiting, reading, handling, writing, closed };

  void wait_for_request();
  void on_first_bytes(boost::beast::error_code ec, std::size_t bytes);
  void read_header();
  void read_more();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void on_header();
  void on_read_error(boost::beast::error_code ec);
  // Memory this connection's request occupies beyond the free allowance.
  std::size_t footprint() const;
  void check_chunk_header(std::uint64_t size, boost::beast::string_view extensions, boost::beast::error_code& ec);
  void dispatch(Request&& message);
  void write_response(HttpResponse response);
  void on_written(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);
  void reject(const Problem& problem);
  void reject(const HttpResponse& answer);
  void on_rejected(boost::beast::error_code ec, std::size_t bytes);
  void linger();
  void on_linger(boost::beast::error_code ec, std::size_t bytes);
  void close();

  std::shared_ptr<ServerContext> context_;
  ConnectionTicket ticket_;
  BudgetShare body_share_;
  boost::beast::tcp_stream stream_;
  const boost::asio::any_io_executor strand_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::function<void(std::uint64_t, boost::beast::string_view, boost::beast::error_code&)> chunk_header_check_;
  bool header_done_ = false;
  bool chunk_extension_too_long_ = false;
  std::chrono::steady_clock::time_point request_started_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  std::string remote_address_;
  Phase phase_ = Phase::waiting;
  // idle_since() for other threads: steady-clock ticks, 0 while busy.
  std::atomic<std::chrono::steady_clock::rep> idle_since_{0};
  unsigned version_ = 11;
  bool keep_alive_ = true;
  std::string path_;
  std::size_t lingered_bytes_ = 0;
  std::shared_ptr<HttpSession> pending_self_;  // alive while the Handler owes an answer
};

}  // namespace xoev::http
