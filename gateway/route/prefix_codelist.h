// The DVDV prefix code list (urn:xoev-de:bund:bmi:bit:codeliste:dvdv.praefix, a
// genericode document): the prefixes a reader id `praefix:kennung` may use. Directory
// files are checked against it, so a typo such as `psv:` is found when the file is
// loaded, not when the first message for that authority goes nowhere.
#pragma once

#include <filesystem>
#include <set>
#include <string>

#include "gateway/core/result.h"

namespace xoev {

struct PrefixCodelist {
  std::string version;  // genericode Identification/Version, e.g. "51"
  std::set<std::string> prefixes;

  bool contains(const std::string& prefix) const { return prefixes.count(prefix) > 0; }

  // Reads the rows' `praefix` column. Parsed like every XML here: no DTD, no network.
  static Result<PrefixCodelist> load(const std::filesystem::path& file);
};

}  // namespace xoev
