// Many concurrent connections need many file descriptors; Debian's default soft limit
// (1024) is far below the usual hard limit. Not all of them may go to connections:
// Kafka sockets, schema files and a deliverer's temp files need some too.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xoev::http {

// Raises this process's RLIMIT_NOFILE soft limit to its hard limit; returns the new
// soft limit (the old one if raising failed, 0 if it cannot be read).
std::uint64_t raise_open_file_limit();

// How many connections may be open at once: `max_connections`, but never more than
// the open-file limit minus a reserve of max(reserved_min, limit × reserved_percent/100).
// A limit at or below the reserve still allows half of it; 0 (unknown) changes nothing.
std::size_t connection_capacity(std::uint64_t open_file_limit, std::size_t max_connections, int reserved_percent,
                                std::size_t reserved_min);

}  // namespace xoev::http
