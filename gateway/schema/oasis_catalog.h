// A read-only OASIS XML catalog (the subset schema imports need: uri, system,
// rewriteURI, rewriteSystem, uriSuffix, systemSuffix, group, nextCatalog, xml:base).
// Our own small resolver rather than libxml2's: libxml2 caches parsed catalog files
// process-wide by name, so a reload would never see an edited catalog.xml, and its
// global catalog also serves unrelated parsing. This one is a plain immutable value.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/result.h"

namespace xoev {

class OasisCatalog {
 public:
  // Problem config_invalid naming file:line if the catalog (or a nextCatalog) is unusable.
  static Result<OasisCatalog> load(const std::filesystem::path& file);

  // The mapped location (absolute path or URL) for a URI / system id, if any.
  std::optional<std::string> resolve(const std::string& uri) const;

 private:
  struct Rule {
    std::string match;   // exact name, prefix or suffix
    std::string target;  // absolute
  };
  std::map<std::string, std::string> exact_;
  std::vector<Rule> rewrites_;  // prefix → replacement prefix
  std::vector<Rule> suffixes_;  // suffix → target
  std::vector<OasisCatalog> next_;

  Status read(const std::filesystem::path& file, int depth);
};

}  // namespace xoev
