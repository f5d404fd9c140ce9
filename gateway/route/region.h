// Regions of the German municipal key hierarchy. An AGS (8 digits: Land 2, Regierungs-
// bezirk 1, Kreis 2, Gemeinde 3) and an ARS (12 digits: Land 2, RB 1, Kreis 2,
// Gemeindeverband 4, Gemeinde 3) share their first five digits; the AGS of an ARS is
// its first five and last three. A region rule names one level: 2, 3, 5, 8 (AGS of a
// Gemeinde), 9 (ARS of a Gemeindeverband) or 12 digits (ARS of a Gemeinde).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace xoev {

// The region key a reader carries: the leading digits of its kennung, when its prefix
// is one of `region_prefixes` and the digits form a key of one level (2, 3, 5, 8, 9
// or 12 digits); else "". "psw:06414000" → "06414000", "leitweg:04011000-1-23" → "04011000".
std::string region_of(std::string_view reader, const std::vector<std::string>& region_prefixes);

// "06*" → "06": the trailing star of the older glob form means the same prefix.
std::string normalized_region_rule(std::string_view rule);

// Whether `region` (AGS or ARS, possibly "") lies in the region a rule names ("*": any,
// also no region). A reader without a region matches no region rule.
bool region_matches(std::string_view rule, std::string_view region);

// How deep in the hierarchy a rule reaches, for precedence: 0 any, 1 Land,
// 2 Regierungsbezirk, 3 Kreis, 4 Gemeindeverband, 5 Gemeinde.
int region_level(std::string_view rule);

}  // namespace xoev
