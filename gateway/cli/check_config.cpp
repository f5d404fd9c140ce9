// `xoevgate check-config FILE [--serve | --destination ID]`: every error as
// FILE:LINE: message; exit 0 when clean, 1 when the config is refused, 2 when the
// file cannot be read. It refuses everything serve and deliver would refuse
// (structure, keys, adapters, schemas), because it runs the same checks
// (gateway/preflight), and builds each adapter's checked config without starting it.
#include <fstream>
#include <iostream>

#include "gateway/cli/command.h"
#include "gateway/config/config.h"
#include "gateway/preflight/preflight.h"

namespace {

void print(const xoev::Problem& p, const std::string& file) {
  // FILE:LINE: message — the form editors and CI annotate.
  if (p.location && !p.location->file.empty())
    std::cerr << p.location->file << ":" << p.location->line << ": " << p.detail << "\n";
  else
    std::cerr << file << ":0: " << p.detail << "\n";
}

XOEVGATE_COMMAND("check-config", "check a configuration file and print every error (exit 0 ok, 1 invalid, 2 unreadable)",
                 [](CLI::App& app) {
  auto file = std::make_shared<std::string>();
  auto serve_only = std::make_shared<bool>(false);
  auto destination = std::make_shared<std::string>();
  app.add_option("FILE", *file, "configuration file")->required();
  auto* s = app.add_flag("--serve", *serve_only,
                         "check only what `serve` on this host needs (its in_process adapters' private keys)");
  app.add_option("--destination", *destination,
                 "check only what `deliver --destination ID` on this host needs (that adapter's keys)")
      ->excludes(s);
  return [file, serve_only, destination]() -> int {
    if (!std::ifstream(*file)) {
      std::cerr << *file << ":0: cannot read the file\n";
      return 2;
    }
    xoev::Config config;
    auto problems = xoev::read_config(*file, config);
    if (problems.empty()) {
      xoev::PreflightScope scope = xoev::PreflightScope::everything();
      if (*serve_only) scope = xoev::PreflightScope::serve(config);
      if (!destination->empty()) {
        if (!config.destination(*destination)) {
          std::cerr << *file << ":0: no destination '" << *destination << "' in this config\n";
          return 1;
        }
        scope = xoev::PreflightScope::deliver(*destination);
      }
      scope.snapshot = scope.gateway;  // check-config also compiles the schemas serve would
      scope.environment = true;        // and reports an inbox it could not write now
      problems = xoev::preflight(config, scope);
    }
    for (const auto& p : problems) print(p, *file);
    if (problems.empty()) std::cout << *file << ": ok\n";
    return problems.empty() ? 0 : 1;
  };
});

}  // namespace
