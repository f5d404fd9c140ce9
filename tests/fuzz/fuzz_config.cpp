// Hostile gateway.yaml: load_config and check_config give a config or Problems with
// FILE:LINE, never a crash or an exception escaping (yaml-cpp throws; the loader must
// convert). The input is written to a file because the loader reads paths.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "gateway/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path dir = [] {
    auto path = std::filesystem::temp_directory_path() / ("xoev-fuzz-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  const auto file = dir / "gateway.yaml";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto config = xoev::load_config(file);
  if (!config) (void)config.problem().one_line();
  for (const auto& problem : xoev::check_config(file)) (void)problem.one_line();
  return 0;
}
