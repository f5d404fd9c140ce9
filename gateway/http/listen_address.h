// "HOST:PORT" as written in config and on the command line → a TCP endpoint.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string_view>

#include "gateway/core/result.h"

namespace xoev::http {

// Accepts "127.0.0.1:8080", "[::1]:8080", "localhost:0", ":8080" (all IPv4 interfaces).
// Host names are resolved; the first address wins.
Result<boost::asio::ip::tcp::endpoint> parse_listen_address(std::string_view text);

}  // namespace xoev::http
