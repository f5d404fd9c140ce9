// Subcommands register themselves: each gateway/cli/<name>.cpp defines one
// XOEVGATE_COMMAND, so adding a command never touches main.cpp. The cli target is
// an OBJECT library, so the linker keeps every registrar.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "gateway/core/problem.h"

namespace xoev::cli {

// setup() declares the options on the subcommand and returns the code to run
// once parsing succeeded; that code returns the process exit code.
using Runner = std::function<int()>;
using Setup = std::function<Runner(CLI::App& sub)>;

struct Command {
  std::string name;
  std::string help;
  Setup setup;
};

std::vector<Command>& registry();

struct Registrar {
  Registrar(std::string name, std::string help, Setup setup) {
    registry().push_back({std::move(name), std::move(help), std::move(setup)});
  }
};

// Prints a Problem as one clear line on stderr and returns its exit code.
int fail(const Problem& p);

}  // namespace xoev::cli

#define XOEVGATE_CONCAT_(a, b) a##b
#define XOEVGATE_CONCAT(a, b) XOEVGATE_CONCAT_(a, b)
// Variadic so that commas inside the setup lambda need no extra parentheses.
#define XOEVGATE_COMMAND(name, help, ...) \
  static ::xoev::cli::Registrar XOEVGATE_CONCAT(xoevgate_cmd_, __COUNTER__){name, help, __VA_ARGS__}
