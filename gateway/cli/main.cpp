#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "gateway/cli/command.h"
#include "gateway/cli/version.h"
#include "gateway/core/allocator_tuning.h"
#include "gateway/core/log_format.h"
#include "gateway/core/problem.h"
#include "gateway/core/xml_document.h"

namespace xoev::cli {

std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

int fail(const Problem& p) {
  std::cerr << "xoevgate: " << p.one_line() << "\n";
  return p.exit_code();
}

}  // namespace xoev::cli

namespace {
// One convention for every subcommand, so scripts and systemd can tell the cases apart.
constexpr const char* kExitCodes =
    "Exit codes (every command):\n"
    "  0  ok\n"
    "  1  refused or invalid: what the command checked or sent did not pass (a message, a\n"
    "     configuration under check-config, a key, a topic) or the other side refused it\n"
    "  2  usage or I/O: bad options, unreadable files, a configuration the command cannot\n"
    "     run with, Kafka or a peer unreachable, an internal error";
}  // namespace

int main(int argc, char** argv) {
  xoev::tune_allocator(std::getenv("GLIBC_TUNABLES"));
  xoev::xml_global_init();
  CLI::App app{"xoevgate — XÖV integration gateway"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "xoevgate " + std::string(xoev::kVersion));
  app.footer(kExitCodes);
  // Before or after the subcommand; they win over the environment and the config's log:.
  app.fallthrough();
  std::string log_format, log_level;
  app.add_option("--log-format", log_format, "text or json (default: the config's log.format, else text)")
      ->check(CLI::IsMember({"text", "json"}))
      ->envname("XOEVGATE_LOG_FORMAT");
  app.add_option("--log-level", log_level, "trace, debug, info, warning, error, critical or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warning", "warn", "error", "critical", "off"}))
      ->envname("XOEVGATE_LOG_LEVEL");
  xoev::cli::Runner chosen;
  auto& commands = xoev::cli::registry();
  std::sort(commands.begin(), commands.end(), [](auto& a, auto& b) { return a.name < b.name; });
  for (auto& cmd : commands) {
    CLI::App* sub = app.add_subcommand(cmd.name, cmd.help);
    auto runner = std::make_shared<xoev::cli::Runner>(cmd.setup(*sub));
    sub->callback([runner, &chosen] { chosen = *runner; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  xoev::logging::set_override(
      log_format.empty() ? std::nullopt : xoev::logging::parse_format(log_format),
      log_level.empty() ? std::nullopt : xoev::logging::parse_level(log_level));
  try {
    return chosen ? chosen() : 2;
  } catch (const std::exception& e) {
    // Last line of defence: never a stack trace, one clear line.
    std::cerr << "xoevgate: internal error: " << e.what() << "\n";
    return 2;
  }
}
