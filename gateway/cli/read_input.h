// A command's input: FILE, or stdin when FILE is empty; bounded so a runaway pipe
// cannot exhaust memory.
#pragma once

#include <string>

#include "gateway/core/result.h"

namespace xoev::cli {

Result<std::string> read_input(const std::string& file, std::size_t limit);

}  // namespace xoev::cli
