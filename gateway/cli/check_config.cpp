// `xoevgate check-config FILE`: every error as FILE:LINE: message, exit 0 when clean.
#include <iostream>

#include "gateway/cli/command.h"
#include "gateway/config/config.h"
#include "gateway/ingest/gateway_snapshot.h"

namespace {

XOEVGATE_COMMAND("check-config", "check a configuration file and print every error", [](CLI::App& app) {
  auto file = std::make_shared<std::string>();
  app.add_option("FILE", *file, "configuration file")->required();
  return [file]() -> int {
    auto problems = xoev::check_config(*file);
    if (problems.empty()) {
      // Structure is fine: also compile schemas, XPaths and load keys, as serve would.
      auto c = xoev::load_config(*file);
      if (c) {
        auto snapshot = xoev::GatewaySnapshot::build(std::move(c).value());
        if (!snapshot) problems.push_back(snapshot.problem());
      }
    }
    // FILE:LINE: message — the form editors and CI annotate.
    for (const auto& p : problems) {
      if (p.location && !p.location->file.empty())
        std::cerr << p.location->file << ":" << p.location->line << ": " << p.detail << "\n";
      else
        std::cerr << *file << ":0: " << p.detail << "\n";
    }
    if (problems.empty()) std::cout << *file << ": ok\n";
    return problems.empty() ? 0 : 1;
  };
});

}  // namespace
