// Copies bytes from one open file to another by the kernel (copy_file_range: a reflink
// where the file system can), through a bounded buffer where it cannot; never the
// whole file through memory. Shared by the outbound adapters that publish large messages.
#pragma once

#include <cstdint>
#include <string>

#include "gateway/core/result.h"

namespace xoev {

// Copies `size` bytes from `in`'s current offset to `out`'s. io_error if `in` ends
// first (named `source` in the detail) or a write fails.
Status copy_file_bytes(int in, int out, uint64_t size, const std::string& source);

}  // namespace xoev
