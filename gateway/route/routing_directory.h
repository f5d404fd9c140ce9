// A state's directory of authorities: reader id → destination, from CSV or JSON Lines
// files referenced by routing.directory, one authority per line, hundreds of thousands
// of lines. Each entry routes like a route with an exact reader (and, if given, an
// exact service), so it ranks above every glob. Entries are kept in one sorted vector
// (compact, binary-searched): see bench_route for the cost per entry and per lookup.
//
//   CSV:   reader,destination[,service][,name]     header line first; "#" comments
//          psw:06414000,standesamt-wiesbaden,,Standesamt Wiesbaden
//   JSONL: {"reader": "psw:06414000", "destination": "standesamt-wiesbaden", "name": "…"}
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/core/problem.h"

namespace xoev {

struct DirectoryEntry {
  std::string reader;        // praefix:kennung, exact
  std::string service;       // exact DVDV service / Leika id; "" = any service
  std::uint32_t destination;  // index into Config::destinations
  std::uint32_t line;
  std::uint16_t file;        // index into RoutingDirectory::files()
};

class RoutingDirectory {
 public:
  // At most this many problems are listed; then one more says how many were left out.
  static constexpr size_t kMaxReported = 50;

  // Reads every file of config.routing.directory, checking each line: a reader of the
  // form praefix:kennung whose praefix is in the DVDV prefix code list, a destination
  // the config defines, no reader+service listed twice for different destinations.
  // Problems go to `problems` as FILE:LINE; the directory holds the good lines.
  static std::shared_ptr<const RoutingDirectory> load(const Config& config, std::vector<Problem>& problems);

  // The entries of exactly this reader ("" service first).
  std::span<const DirectoryEntry> entries_for(std::string_view reader) const;
  std::size_t size() const { return entries_.size(); }
  // All entries, sorted by (reader, service): the version fingerprint and /admin/routes.
  std::span<const DirectoryEntry> entries() const { return entries_; }
  const std::string& file_name(std::uint16_t index) const { return files_.at(index); }
  const std::vector<std::string>& files() const { return files_; }

 private:
  std::vector<DirectoryEntry> entries_;  // sorted by (reader, service)
  std::vector<std::string> files_;       // as the config names them
};

}  // namespace xoev
