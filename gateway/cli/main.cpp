#include <iostream>

#include "gateway/cli/command.h"
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

int main(int argc, char** argv) {
  xoev::xml_global_init();
  CLI::App app{"xoevgate — XÖV integration gateway"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "xoevgate 0.1.0");
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
  try {
    return chosen ? chosen() : 2;
  } catch (const std::exception& e) {
    // Last line of defence: never a stack trace, one clear line.
    std::cerr << "xoevgate: internal error: " << e.what() << "\n";
    return 2;
  }
}
