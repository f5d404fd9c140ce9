// The parts of an http:// or https:// URL that a client needs to connect and ask.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/core/result.h"

namespace xoev::http {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without IPv6 brackets
  std::uint16_t port = 0;
  std::string target;  // path and query, at least "/"

  bool tls() const { return scheme == "https"; }
  std::string host_header() const;  // host[:port], brackets restored, default port left out
  std::string authority() const;    // host:port, for messages

  // Only http and https; user info is refused (credentials do not belong in URLs).
  static Result<Url> parse(std::string_view text);
};

}  // namespace xoev::http
