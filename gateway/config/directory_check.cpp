#include "gateway/config/directory_check.h"

#include <unistd.h>

#include <system_error>

namespace xoev {

std::string unusable_directory(const std::filesystem::path& directory) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(directory, ec) && !fs::is_directory(directory, ec)) return "is not a directory";
  fs::path probe = directory;
  while (!probe.empty() && !fs::exists(probe, ec)) probe = probe.parent_path();
  if (probe.empty() || !fs::is_directory(probe, ec) || ::access(probe.c_str(), W_OK | X_OK) != 0)
    return "cannot be written";
  return {};
}

}  // namespace xoev
