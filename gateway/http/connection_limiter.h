// Caps open connections in total and per client address, so one client (or many idle
// sockets) cannot take every file descriptor. The listener asks before it starts a
// session; the session's ConnectionTicket gives the place back when it ends.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace xoev::http {

class ConnectionLimiter;

// Who counts as one client: an IPv4 address, or an IPv6 /64 (one subscriber usually
// holds a whole /64 and could otherwise open connections from countless addresses).
std::string client_key(const boost::asio::ip::address& address);

class ConnectionTicket {
 public:
  ConnectionTicket(ConnectionLimiter* limiter, std::string address)
      : limiter_(limiter), address_(std::move(address)) {}
  ~ConnectionTicket();
  ConnectionTicket(ConnectionTicket&& other) noexcept;
  ConnectionTicket& operator=(ConnectionTicket&&) = delete;
  ConnectionTicket(const ConnectionTicket&) = delete;
  ConnectionTicket& operator=(const ConnectionTicket&) = delete;

  const std::string& client() const { return address_; }

 private:
  ConnectionLimiter* limiter_;
  std::string address_;
};

class ConnectionLimiter {
 public:
  ConnectionLimiter(std::size_t max_total, std::size_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  // A ticket if `client` (see client_key) may open one more connection; nullopt if a
  // cap is reached.
  std::optional<ConnectionTicket> try_admit(const std::string& client);
  std::size_t open_connections() const;
  std::size_t max_total() const { return max_total_; }
  std::size_t max_per_address() const { return max_per_address_; }

 private:
  friend class ConnectionTicket;
  void release(const std::string& address);

  const std::size_t max_total_;
  const std::size_t max_per_address_;
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
};

}  // namespace xoev::http
