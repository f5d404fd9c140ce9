// Reads typed values out of yaml-cpp nodes and collects every error with
// file:line, so check-config shows all mistakes at once and nothing throws past here.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/problem.h"

namespace xoev::config_detail {

class YamlReader {
 public:
  // `file` resolves relative paths; `shown` is how errors name it (as the user typed it).
  YamlReader(std::filesystem::path file, std::string shown) : file_(std::move(file)), shown_(std::move(shown)) {}

  Location where(const YAML::Node& n) const;
  void error(const YAML::Node& at, const std::string& message);
  void error_at(Location at, const std::string& message);

  // Every key of `map` must be one of `allowed`; reports the others.
  void only_keys(const YAML::Node& map, std::initializer_list<const char*> allowed, const std::string& section);
  void only_keys(const YAML::Node& map, const std::vector<std::string>& allowed, const std::string& section);
  // yaml-cpp keeps both of `a: 1` / `a: 2` and answers the first: refuse them anywhere
  // in the tree, since the clerk meant one of them and we cannot know which.
  void no_duplicate_keys(const YAML::Node& node, int depth = 0);
  bool is_map(const YAML::Node& n, const std::string& what);

  std::string str(const YAML::Node& parent, const char* key, const std::string& fallback, bool required = false);
  bool boolean(const YAML::Node& parent, const char* key, bool fallback);
  long long integer(const YAML::Node& parent, const char* key, long long fallback, long long min, long long max);
  std::chrono::milliseconds millis(const YAML::Node& parent, const char* key, std::chrono::milliseconds fallback);
  std::filesystem::path path(const YAML::Node& parent, const char* key, bool required);
  std::vector<std::filesystem::path> paths(const YAML::Node& parent, const char* key);
  std::filesystem::path resolve(const std::string& p) const;

  // Secrets need not be written into the file: a value that is exactly `${NAME}` is
  // the environment variable NAME (unset: an error naming `what` and the line), and
  // `<key>_file: PATH` gives the file's content without its trailing newline
  // (unreadable: an error). nullopt after an error.
  std::optional<std::string> env_value(const YAML::Node& at, const std::string& value, const std::string& what);
  std::optional<std::string> file_secret(const YAML::Node& at, const std::string& path, const std::string& what);

  std::vector<Problem>& problems() { return problems_; }
  const std::filesystem::path& file() const { return file_; }
  const std::string& shown() const { return shown_; }

 private:
  std::filesystem::path file_;
  std::string shown_;
  std::vector<Problem> problems_;
};

}  // namespace xoev::config_detail
