// The precedence of routes, as one ordered tuple: a route that matches ranks by
//   1. reader: exact id > glob (more literal characters first) > any
//   2. region: Gemeinde > Gemeindeverband > Kreis > Regierungsbezirk > Land > any
//   3. service, 4. message type, 5. standard, 6. author: exact > glob > any
//   7. priority (higher first), only to break what remains
// compared field by field in that order, so a more specific reader always beats a more
// specific standard. Equal ranks to different destinations are ambiguous.
#pragma once

#include <compare>
#include <string>
#include <string_view>

namespace xoev {

struct PatternRank {
  int kind = 0;      // 0 any ("*"), 1 glob, 2 exact
  int literals = 0;  // literal characters: "psw:0641*" before "psw:*"
  friend auto operator<=>(const PatternRank&, const PatternRank&) = default;
};

PatternRank rank_pattern(std::string_view pattern);

struct RouteRank {
  PatternRank reader;
  int region = 0;  // region_level
  PatternRank service;
  PatternRank message_type;
  PatternRank standard;
  PatternRank author;
  int priority = 0;
  friend auto operator<=>(const RouteRank&, const RouteRank&) = default;
};

// "reader exact, region Kreis, message type glob, priority 5": for route --explain.
std::string describe(const RouteRank& rank);

}  // namespace xoev
