#include "gateway/route/route_rank.h"

#include "gateway/core/glob.h"

namespace xoev {

PatternRank rank_pattern(std::string_view pattern) {
  if (pattern.empty() || pattern == "*") return {0, 0};
  const bool glob = pattern.find_first_of("*?") != std::string_view::npos;
  return {glob ? 1 : 2, glob_specificity(pattern)};
}

namespace {

void add(std::string& out, const char* field, const PatternRank& r) {
  if (r.kind == 0) return;
  if (!out.empty()) out += ", ";
  out.append(field).append(r.kind == 2 ? " exact" : " glob");
}

const char* level_name(int level) {
  switch (level) {
    case 1: return "Land";
    case 2: return "Regierungsbezirk";
    case 3: return "Kreis";
    case 4: return "Gemeindeverband";
    case 5: return "Gemeinde";
    default: return "any";
  }
}

}  // namespace

std::string describe(const RouteRank& rank) {
  std::string out;
  add(out, "reader", rank.reader);
  if (rank.region > 0) {
    if (!out.empty()) out += ", ";
    out.append("region ").append(level_name(rank.region));
  }
  add(out, "service", rank.service);
  add(out, "message type", rank.message_type);
  add(out, "standard", rank.standard);
  add(out, "author", rank.author);
  if (out.empty()) out = "catch-all";
  if (rank.priority != 0) out.append(", priority ").append(std::to_string(rank.priority));
  return out;
}

}  // namespace xoev
