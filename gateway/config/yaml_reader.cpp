#include "gateway/config/yaml_reader.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>

namespace xoev::config_detail {

Location YamlReader::where(const YAML::Node& n) const {
  const auto m = n.Mark();
  return {shown_, m.line >= 0 ? m.line + 1 : 0, 0};
}

void YamlReader::error(const YAML::Node& at, const std::string& message) { error_at(where(at), message); }

void YamlReader::error_at(Location at, const std::string& message) {
  Problem p = Problem::make(ProblemKind::config_invalid, message).at(std::move(at));
  p.title = "config";
  problems_.push_back(std::move(p));
}

bool YamlReader::is_map(const YAML::Node& n, const std::string& what) {
  if (n.IsMap()) return true;
  error(n, what + " must be a mapping (key: value)");
  return false;
}

void YamlReader::only_keys(const YAML::Node& map, std::initializer_list<const char*> allowed, const std::string& section) {
  if (!map.IsMap()) return;
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>("");
    const bool known = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; });
    if (!known) {
      std::string list;
      for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
      error(kv.first, "unknown key '" + key + "' in " + section + " (allowed: " + list + ")");
    }
  }
}

void YamlReader::only_keys(const YAML::Node& map, const std::vector<std::string>& allowed, const std::string& section) {
  if (!map.IsMap()) return;
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>("");
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    error(kv.first, "unknown key '" + key + "' in " + section + " (allowed: " + list + ")");
  }
}

void YamlReader::no_duplicate_keys(const YAML::Node& node, int depth) {
  // An alias may contain itself (`a: &a [*a]`, found by the config fuzzer): bound the
  // walk instead of following it until the stack runs out.
  constexpr int kMaxDepth = 64;
  if (depth > kMaxDepth) {
    error(node, "nested deeper than " + std::to_string(kMaxDepth) + " levels (or an alias refers to itself)");
    return;
  }
  if (node.IsMap()) {
    std::map<std::string, int> first_line;
    for (const auto& kv : node) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
      const int line = kv.first.Mark().line + 1;
      if (auto [it, fresh] = first_line.emplace(key, line); !fresh)
        error(kv.first, "key '" + key + "' appears twice in this mapping (first on line " + std::to_string(it->second) +
                            "); only one can count");
      no_duplicate_keys(kv.second, depth + 1);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) no_duplicate_keys(item, depth + 1);
  }
}

std::string YamlReader::str(const YAML::Node& parent, const char* key, const std::string& fallback, bool required) {
  const YAML::Node n = parent[key];
  if (!n || n.IsNull()) {
    if (required) error(parent, std::string("missing required key '") + key + "'");
    return fallback;
  }
  if (!n.IsScalar()) {
    error(n, std::string("'") + key + "' must be a text value");
    return fallback;
  }
  return n.Scalar();
}

bool YamlReader::boolean(const YAML::Node& parent, const char* key, bool fallback) {
  const YAML::Node n = parent[key];
  if (!n || n.IsNull()) return fallback;
  bool v = fallback;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) error(n, std::string("'") + key + "' must be true or false");
  return v;
}

long long YamlReader::integer(const YAML::Node& parent, const char* key, long long fallback, long long min,
                              long long max) {
  const YAML::Node n = parent[key];
  if (!n || n.IsNull()) return fallback;
  long long v = fallback;
  if (!n.IsScalar() || !YAML::convert<long long>::decode(n, v)) {
    error(n, std::string("'") + key + "' must be a whole number");
    return fallback;
  }
  if (v < min || v > max) {
    error(n, std::string("'") + key + "' must be between " + std::to_string(min) + " and " + std::to_string(max) +
                 ", got " + std::to_string(v));
    return fallback;
  }
  return v;
}

std::chrono::milliseconds YamlReader::millis(const YAML::Node& parent, const char* key,
                                             std::chrono::milliseconds fallback) {
  // Durations are written as numbers with a unit: 500ms, 10s, 5m, 1h, 30d.
  const YAML::Node n = parent[key];
  if (!n || n.IsNull()) return fallback;
  const std::string s = n.IsScalar() ? n.Scalar() : "";
  size_t pos = 0;
  long long value = -1;
  try {
    value = std::stoll(s, &pos);
  } catch (...) {
    value = -1;
  }
  const std::string unit = s.substr(std::min(pos, s.size()));
  long long factor = 0;
  if (unit == "ms") factor = 1;
  else if (unit == "s") factor = 1000;
  else if (unit == "m") factor = 60'000;
  else if (unit == "h") factor = 3'600'000;
  else if (unit == "d") factor = 86'400'000;
  if (value < 0 || factor == 0) {
    error(n, std::string("'") + key + "' must be a duration like 500ms, 10s, 5m, 1h or 30d, got '" + s + "'");
    return fallback;
  }
  return std::chrono::milliseconds(value * factor);
}

std::filesystem::path YamlReader::resolve(const std::string& p) const {
  std::filesystem::path path(p);
  if (path.is_absolute()) return path.lexically_normal();
  return (file_.parent_path() / path).lexically_normal();
}

std::optional<std::string> YamlReader::env_value(const YAML::Node& at, const std::string& value,
                                                 const std::string& what) {
  static const std::regex kReference(R"(\$\{([A-Za-z_][A-Za-z0-9_]*)\})");
  std::smatch m;
  if (!std::regex_match(value, m, kReference)) return value;
  const char* set = std::getenv(m[1].str().c_str());
  if (!set) {
    error(at, what + " refers to environment variable " + m[1].str() + ", which is not set");
    return std::nullopt;
  }
  return std::string(set);
}

std::optional<std::string> YamlReader::file_secret(const YAML::Node& at, const std::string& path,
                                                   const std::string& what) {
  const std::filesystem::path file = resolve(path);
  std::error_code ec;
  std::ifstream in(file, std::ios::binary);
  std::string s;
  if (std::filesystem::is_regular_file(file, ec) && in) s.assign(std::istreambuf_iterator<char>(in), {});
  if (!std::filesystem::is_regular_file(file, ec) || !in || in.bad()) {
    error(at, what + ": cannot read '" + file.string() + "'");
    return std::nullopt;
  }
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::filesystem::path YamlReader::path(const YAML::Node& parent, const char* key, bool required) {
  const std::string s = str(parent, key, "", required);
  return s.empty() ? std::filesystem::path{} : resolve(s);
}

std::vector<std::filesystem::path> YamlReader::paths(const YAML::Node& parent, const char* key) {
  std::vector<std::filesystem::path> out;
  const YAML::Node n = parent[key];
  if (!n || n.IsNull()) return out;
  if (!n.IsSequence()) {
    error(n, std::string("'") + key + "' must be a list of file paths");
    return out;
  }
  for (const auto& item : n) {
    if (!item.IsScalar()) error(item, std::string("entries of '") + key + "' must be file paths");
    else out.push_back(resolve(item.Scalar()));
  }
  return out;
}

}  // namespace xoev::config_detail
