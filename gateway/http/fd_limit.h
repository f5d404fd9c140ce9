// Many concurrent connections need many file descriptors; Debian's default soft limit
// (1024) is far below the usual hard limit.
#pragma once

#include <cstdint>

namespace xoev::http {

// Raises this process's RLIMIT_NOFILE soft limit to its hard limit; returns the new
// soft limit (the old one if raising failed).
std::uint64_t raise_open_file_limit();

}  // namespace xoev::http
