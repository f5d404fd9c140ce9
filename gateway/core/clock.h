#pragma once

#include <chrono>
#include <string>

namespace xoev {

// RFC 3339 UTC timestamp with milliseconds, e.g. 2026-11-28T10:00:00.123Z.
std::string rfc3339_now();
std::string rfc3339(std::chrono::system_clock::time_point tp);

}  // namespace xoev
