// Accepts connections and starts one HttpSession per connection, each on its own strand,
// as long as the connection caps (total, per client address) allow.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <memory>

#include "gateway/core/result.h"
#include "gateway/http/server_context.h"

namespace xoev::http {

class HttpListener : public std::enable_shared_from_this<HttpListener> {
 public:
  // Binds and listens now, so address errors surface before any thread starts.
  static Result<std::shared_ptr<HttpListener>> open(boost::asio::io_context& ioc,
                                                    const boost::asio::ip::tcp::endpoint& endpoint,
                                                    std::shared_ptr<ServerContext> context);
  HttpListener(boost::asio::io_context& ioc, std::shared_ptr<ServerContext> context);

  void start();
  void stop();  // any thread
  std::uint16_t port() const { return port_; }

 private:
  void accept();
  void on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);
  // Starts a session if the connection caps allow; when the server is full, first
  // closes the longest-idle connection and asks again; else answers 503 and closes.
  void admit(boost::asio::ip::tcp::socket socket, int attempt = 0);
  void refuse(boost::asio::ip::tcp::socket socket, const std::string& client, bool server_full);

  static constexpr int kEvictionAttempts = 3;
  static constexpr std::chrono::milliseconds kEvictionWait{20};
  static constexpr int kMaxPendingAdmissions = 64;  // sockets held while idle ones close

  boost::asio::io_context& ioc_;
  std::shared_ptr<ServerContext> context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::uint16_t port_ = 0;
  int pending_admissions_ = 0;  // only touched on the acceptor's strand
};

}  // namespace xoev::http
