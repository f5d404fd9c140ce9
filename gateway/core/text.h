// Small text helpers shared across units.
#pragma once

#include <string>
#include <string_view>

namespace xoev {

// Without leading and trailing spaces, tabs, CR and LF.
std::string trim(std::string_view s);

// Server paths ("/var/lib/…") in a text shown outside (status details, sender
// callbacks) become "…"; a URL's "//host" stays.
std::string without_paths(const std::string& text);

}  // namespace xoev
