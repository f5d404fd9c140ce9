#include "gateway/route/routing_directory.h"

#include <algorithm>
#include <fstream>
#include <tuple>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "gateway/core/routing_fields.h"
#include "gateway/route/prefix_codelist.h"

namespace xoev {
namespace {

struct Row {
  std::string reader, destination, service;
};

// Collects problems up to the cap, counting the rest.
class Problems {
 public:
  explicit Problems(std::vector<Problem>& out) : out_(out) {}
  void add(const std::string& file, std::uint32_t line, const std::string& message) {
    if (reported_++ < RoutingDirectory::kMaxReported)
      out_.push_back(Problem::make(ProblemKind::config_invalid, message).at(Location{file, static_cast<int>(line), 0}));
  }
  void finish(const std::string& what) {
    if (reported_ > RoutingDirectory::kMaxReported)
      out_.push_back(Problem::make(ProblemKind::config_invalid,
                                   std::to_string(reported_ - RoutingDirectory::kMaxReported) +
                                       " more problems in " + what + " not listed"));
  }

 private:
  std::vector<Problem>& out_;
  size_t reported_ = 0;
};

// One CSV line (RFC 4180 quoting: "a, b" and "" for a quote); false if a quote is open.
bool split_csv(std::string_view line, std::vector<std::string>& fields) {
  fields.clear();
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else {
      field += ch;
    }
  }
  fields.push_back(std::move(field));
  return !quoted;
}

std::string trimmed(std::string s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

bool blank_or_comment(std::string_view line) {
  const auto first = line.find_first_not_of(" \t");
  return first == std::string_view::npos || line[first] == '#';
}

// Reads one file into rows (with their line numbers); format problems are reported.
template <class OnRow>
void read_csv(std::istream& in, const std::string& shown, Problems& problems, OnRow on_row) {
  std::string line;
  std::uint32_t number = 0;
  std::vector<std::string> fields;
  int reader_col = -1, destination_col = -1, service_col = -1;
  size_t columns = 0;
  bool have_header = false;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (blank_or_comment(line)) continue;
    if (!split_csv(line, fields)) {
      problems.add(shown, number, "a quoted field is not closed");
      continue;
    }
    if (!have_header) {
      have_header = true;
      columns = fields.size();
      for (size_t i = 0; i < fields.size(); ++i) {
        const std::string name = trimmed(fields[i]);
        if (name == "reader") reader_col = static_cast<int>(i);
        else if (name == "destination") destination_col = static_cast<int>(i);
        else if (name == "service") service_col = static_cast<int>(i);
        else if (name != "name")
          problems.add(shown, number, "unknown column '" + printable(name) + "' (columns: reader, destination, service, name)");
      }
      if (reader_col < 0 || destination_col < 0) {
        problems.add(shown, number, "the first line must name the columns, with at least reader and destination");
        return;
      }
      continue;
    }
    if (fields.size() != columns) {
      problems.add(shown, number, "has " + std::to_string(fields.size()) + " fields; the header names " +
                                      std::to_string(columns));
      continue;
    }
    on_row(number, Row{trimmed(fields[static_cast<size_t>(reader_col)]),
                       trimmed(fields[static_cast<size_t>(destination_col)]),
                       service_col < 0 ? std::string() : trimmed(fields[static_cast<size_t>(service_col)])});
  }
}

template <class OnRow>
void read_jsonl(std::istream& in, const std::string& shown, Problems& problems, OnRow on_row) {
  std::string line;
  std::uint32_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (blank_or_comment(line)) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      problems.add(shown, number, "is not one JSON object");
      continue;
    }
    Row row;
    bool ok = true;
    for (const auto& [key, value] : j.items()) {
      std::string* target = key == "reader" ? &row.reader
                            : key == "destination" ? &row.destination
                            : key == "service" ? &row.service
                                               : nullptr;
      if (!target && key != "name") {
        problems.add(shown, number, "unknown key '" + printable(key) + "' (keys: reader, destination, service, name)");
        ok = false;
      } else if (!value.is_string()) {
        problems.add(shown, number, std::string("'").append(printable(key)).append("' must be a string"));
        ok = false;
      } else if (target) {
        *target = value.template get<std::string>();
      }
    }
    if (ok) on_row(number, std::move(row));
  }
}

}  // namespace

std::shared_ptr<const RoutingDirectory> RoutingDirectory::load(const Config& config,
                                                               std::vector<Problem>& problem_list) {
  auto dir = std::make_shared<RoutingDirectory>();
  if (config.routing.directory.empty()) return dir;
  Problems problems(problem_list);

  const auto codelist = PrefixCodelist::load(*config.routing.prefix_codelist);
  if (!codelist) {
    problem_list.push_back(Problem(codelist.problem()).at(config.routing.where));
    return dir;
  }
  std::unordered_map<std::string, std::uint32_t> destinations;
  for (size_t i = 0; i < config.destinations.size(); ++i)
    destinations.emplace(config.destinations[i].id, static_cast<std::uint32_t>(i));

  for (const auto& path : config.routing.directory) {
    const auto file_index = static_cast<std::uint16_t>(dir->files_.size());
    const std::string shown = path.string();
    dir->files_.push_back(shown);
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      problems.add(shown, 0, "cannot read the directory file");
      continue;
    }
    auto on_row = [&](std::uint32_t line, Row row) {
      if (!is_participant_id(row.reader)) {
        problems.add(shown, line, "reader '" + printable(row.reader) + "' is not a DVDV address praefix:kennung");
        return;
      }
      const std::string prefix = row.reader.substr(0, row.reader.find(':'));
      if (!codelist->contains(prefix)) {
        problems.add(shown, line, "reader '" + printable(row.reader) + "': prefix '" + printable(prefix) +
                                      "' is not in the DVDV prefix code list (version " + codelist->version + ")");
        return;
      }
      const auto dest = destinations.find(row.destination);
      if (dest == destinations.end()) {
        problems.add(shown, line, "destination '" + printable(row.destination) + "' is not defined under destinations");
        return;
      }
      if (row.service.size() > kMaxInformationalChars || printable(row.service, kMaxInformationalChars) != row.service) {
        problems.add(shown, line, "service '" + printable(row.service) + "' has characters a service id cannot have");
        return;
      }
      dir->entries_.push_back(DirectoryEntry{std::move(row.reader), std::move(row.service), dest->second, line, file_index});
    };
    if (path.extension() == ".csv") read_csv(in, shown, problems, on_row);
    else read_jsonl(in, shown, problems, on_row);
  }

  auto& entries = dir->entries_;
  std::sort(entries.begin(), entries.end(), [](const DirectoryEntry& a, const DirectoryEntry& b) {
    if (a.reader != b.reader) return a.reader < b.reader;
    if (a.service != b.service) return a.service < b.service;
    return std::tie(a.file, a.line) < std::tie(b.file, b.line);
  });
  // The same reader and service twice: harmless when both name one destination (kept
  // once), a mistake when they differ.
  std::vector<DirectoryEntry> unique;
  unique.reserve(entries.size());
  for (auto& e : entries) {
    if (!unique.empty() && unique.back().reader == e.reader && unique.back().service == e.service) {
      const auto& first = unique.back();
      if (first.destination != e.destination)
        problems.add(dir->files_[e.file], e.line,
                     "reader '" + e.reader + "'" + (e.service.empty() ? "" : " with service '" + e.service + "'") +
                         " is already listed for destination '" + config.destinations[first.destination].id + "' (" +
                         dir->files_[first.file] + ":" + std::to_string(first.line) + ")");
      continue;
    }
    unique.push_back(std::move(e));
  }
  unique.shrink_to_fit();
  entries = std::move(unique);
  problems.finish("the directory files");
  return dir;
}

std::span<const DirectoryEntry> RoutingDirectory::entries_for(std::string_view reader) const {
  auto lower = std::lower_bound(entries_.begin(), entries_.end(), reader,
                                [](const DirectoryEntry& e, std::string_view r) { return e.reader < r; });
  auto upper = lower;
  while (upper != entries_.end() && upper->reader == reader) ++upper;
  return {lower, upper};
}

}  // namespace xoev
