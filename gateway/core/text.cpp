#include "gateway/core/text.h"

#include <regex>

namespace xoev {

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

std::string without_paths(const std::string& text) {
  // An absolute path after a space, quote, '(' or '='; not a URL's "//host" (ends at ':').
  static const std::regex path(R"((^|[\s'"(=])/(?!/)[^\s'"():]+)");
  return std::regex_replace(text, path, "$1…");
}

}  // namespace xoev
