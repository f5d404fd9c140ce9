#include "gateway/http/listen_address.h"

#include <boost/asio/io_context.hpp>
#include <charconv>
#include <string>

namespace xoev::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Result<tcp::endpoint> parse_listen_address(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Problem::make(ProblemKind::config_invalid,
                         "listen address \"" + std::string(text) + "\" " + std::string(why) + " (expected HOST:PORT)");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("has no port");
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) return bad("has an invalid port");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";

  boost::system::error_code error;
  const auto address = net::ip::make_address(std::string(host), error);
  if (!error) return tcp::endpoint(address, static_cast<unsigned short>(port));

  net::io_context ioc;
  tcp::resolver resolver(ioc);
  const auto results = resolver.resolve(std::string(host), std::string(port_text), error);
  if (error || results.empty()) return bad("names a host that does not resolve: " + error.message());
  return results.begin()->endpoint();
}

}  // namespace xoev::http
