#include "gateway/http/connection_limiter.h"

#include <algorithm>

namespace xoev::http {

std::string client_key(const boost::asio::ip::address& address) {
  if (address.is_v4()) return address.to_string();
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

ConnectionTicket::~ConnectionTicket() {
  if (limiter_ != nullptr) limiter_->release(address_);
}

ConnectionTicket::ConnectionTicket(ConnectionTicket&& other) noexcept
    : limiter_(other.limiter_), address_(std::move(other.address_)) {
  other.limiter_ = nullptr;
}

std::optional<ConnectionTicket> ConnectionLimiter::try_admit(const std::string& address) {
  std::lock_guard lock(mutex_);
  if (total_ >= max_total_) return std::nullopt;
  auto& count = per_address_[address];
  if (count >= max_per_address_) {
    if (count == 0) per_address_.erase(address);
    return std::nullopt;
  }
  ++count;
  ++total_;
  return ConnectionTicket(this, address);
}

std::size_t ConnectionLimiter::open_connections() const {
  std::lock_guard lock(mutex_);
  return total_;
}

void ConnectionLimiter::release(const std::string& address) {
  std::lock_guard lock(mutex_);
  --total_;
  const auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

}  // namespace xoev::http
