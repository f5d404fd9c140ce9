#include "gateway/http/url.h"

#include <charconv>

namespace xoev::http {

namespace {
std::string bracketed(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}
}  // namespace

std::string Url::host_header() const {
  const bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  return default_port ? bracketed(host) : bracketed(host) + ":" + std::to_string(port);
}

std::string Url::authority() const { return bracketed(host) + ":" + std::to_string(port); }

Result<Url> Url::parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Problem::make(ProblemKind::usage, "invalid URL \"" + std::string(text) + "\": " + std::string(why));
  };
  Url url;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return bad("expected http://HOST[:PORT]/PATH or https://...");
  url.scheme = std::string(text.substr(0, scheme_end));
  for (auto& c : url.scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (url.scheme != "http" && url.scheme != "https") return bad("only http and https are supported");
  std::string_view rest = text.substr(scheme_end + 3);
  const auto path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
  target = target.substr(0, target.find('#'));  // fragments never go on the wire
  // append() rather than "/" + std::string(...): GCC 12 -O3 warns falsely (-Wrestrict) on the latter.
  url.target = target.empty() || target.front() != '/' ? std::string("/").append(target) : std::string(target);

  if (authority.find('@') != std::string_view::npos) return bad("user info in URLs is not supported");
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed IPv6 bracket");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("unexpected text after the IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) return bad("no host");
  if (port_text.empty()) {
    url.port = url.tls() ? 443 : 80;
  } else {
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
      return bad("invalid port");
    }
    url.port = static_cast<std::uint16_t>(port);
  }
  return url;
}

}  // namespace xoev::http
