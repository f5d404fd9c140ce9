// `xoevgate audit verify FILE`: checks the audit log's hash chain. Exit 0 intact,
// 1 with the first edited, removed, inserted or reordered line, 2 unreadable.
#include <iostream>

#include "gateway/audit/audit_verify.h"
#include "gateway/cli/command.h"

namespace {

XOEVGATE_COMMAND("audit", "verify the hash chain of an audit log", [](CLI::App& app) {
  auto action = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  app.add_option("ACTION", *action, "verify")->required()->check(CLI::IsMember({"verify"}));
  app.add_option("FILE", *file, "the audit log (audit.file in the config)")->required();
  return [=]() -> int {  // uses `action`, so the string CLI11 writes into stays alive
    if (*action != "verify") return xoev::cli::fail(xoev::Problem::make(xoev::ProblemKind::usage, "unknown action " + *action));
    auto report = xoev::audit::verify_audit_file(*file);
    if (!report) return xoev::cli::fail(report.problem());
    if (report->intact) {
      std::cout << *file << ": intact, " << report->lines << " lines\n";
      return 0;
    }
    std::cerr << *file << ":" << report->first_bad_line << ": audit chain broken: " << report->reason << "\n";
    return 1;
  };
});

}  // namespace
