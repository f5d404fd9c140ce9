// Whether an adapter could use a directory it is configured with: an existing
// directory it may write, or one it can create below the nearest existing parent.
#pragma once

#include <filesystem>
#include <string>

namespace xoev {

// Empty when usable; otherwise why not ("is not a directory", "cannot be written").
std::string unusable_directory(const std::filesystem::path& directory);

}  // namespace xoev
