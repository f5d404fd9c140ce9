#include "gateway/config/listen_check.h"

#include <regex>

namespace xoev {
namespace {

struct HostPort {
  std::string host;
  int port = -1;
};

HostPort split(const std::string& s) {
  static const std::regex re(R"(^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.\-]*):([0-9]{1,5})$)");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return {};
  const int port = std::stoi(m[2]);
  if (port > 65535) return {};
  std::string host = m[1];
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  return {host, port};
}

bool wildcard(const std::string& host) { return host.empty() || host == "0.0.0.0" || host == "::"; }

}  // namespace

bool is_listen_address(const std::string& text) { return split(text).port >= 0; }

bool listens_overlap(const std::string& a, const std::string& b) {
  const auto x = split(a);
  const auto y = split(b);
  if (x.port <= 0 || x.port != y.port) return false;  // port 0: the kernel picks a free one
  return x.host == y.host || wildcard(x.host) || wildcard(y.host);
}

}  // namespace xoev
