// Small text helpers shared across units.
#pragma once

#include <string>
#include <string_view>

namespace xoev {

// Without leading and trailing spaces, tabs, CR and LF.
std::string trim(std::string_view s);

}  // namespace xoev
