#include "gateway/route/region.h"

#include <algorithm>
#include <cctype>

namespace xoev {
namespace {

bool is_key_length(size_t n) { return n == 2 || n == 3 || n == 5 || n == 8 || n == 9 || n == 12; }

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::string region_of(std::string_view reader, const std::vector<std::string>& region_prefixes) {
  const auto colon = reader.find(':');
  if (colon == std::string_view::npos) return {};
  const std::string_view prefix = reader.substr(0, colon);
  if (std::find(region_prefixes.begin(), region_prefixes.end(), prefix) == region_prefixes.end()) return {};
  const std::string_view kennung = reader.substr(colon + 1);
  size_t n = 0;
  while (n < kennung.size() && std::isdigit(static_cast<unsigned char>(kennung[n]))) ++n;
  return is_key_length(n) ? std::string(kennung.substr(0, n)) : std::string();
}

std::string normalized_region_rule(std::string_view rule) {
  if (rule.size() > 1 && rule.back() == '*') rule.remove_suffix(1);
  return std::string(rule);
}

bool region_matches(std::string_view rule_text, std::string_view region) {
  const std::string rule = normalized_region_rule(rule_text);
  if (rule == "*") return true;
  if (region.empty()) return false;
  switch (rule.size()) {
    case 2:
    case 3:
    case 5:  // Land, Regierungsbezirk, Kreis: the same digits in AGS and ARS
      return starts_with(region, rule);
    case 8:  // the AGS of a Gemeinde: equal to an AGS, or to the AGS part of an ARS
      if (region.size() == 8) return region == rule;
      if (region.size() == 12) return std::string(region.substr(0, 5)).append(region.substr(9, 3)) == rule;
      return false;
    case 9:
    case 12:  // ARS levels only an ARS has
      return region.size() == 12 && starts_with(region, rule);
    default:
      return false;  // refused when the config is loaded
  }
}

int region_level(std::string_view rule_text) {
  const std::string rule = normalized_region_rule(rule_text);
  if (rule == "*") return 0;
  switch (rule.size()) {
    case 2: return 1;
    case 3: return 2;
    case 5: return 3;
    case 9: return 4;
    case 8:
    case 12: return 5;
    default: return 0;
  }
}

}  // namespace xoev
