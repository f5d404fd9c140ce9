// A plain blocking TCP client for tests that must send exactly the bytes they choose
// (broken requests, partial bodies, slow headers). Every wait is bounded.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/http/http_headers.h"

namespace xoev::http::test {

struct RawResponse {
  int status = 0;
  HeaderList headers;
  std::string body;
  std::string header(std::string_view name) const { return header_value(headers, name); }
};

class RawConnection {
 public:
  // `from`: the local IPv4 address to connect from (any 127.x.y.z works on Linux
  // loopback), so tests can play several clients; empty: the kernel's choice.
  explicit RawConnection(std::uint16_t port, std::chrono::milliseconds receive_timeout = std::chrono::seconds(10),
                         const std::string& from = "");
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send(std::string_view bytes);
  // One response; nullopt if the connection closed or timed out first.
  std::optional<RawResponse> read_response();
  // True if the peer closed (EOF or reset) within the receive timeout, discarding data.
  bool closed_by_peer();
  void close();

 private:
  int fd_ = -1;
  std::string pending_;  // bytes read past the previous response
};

// Number of open file descriptors of this process (for leak checks).
int open_fd_count();

// Resident memory of this process in bytes (for memory-bound checks).
std::size_t resident_bytes();

}  // namespace xoev::http::test
