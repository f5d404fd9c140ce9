// Checks an audit log's chain: every line valid JSON, "seq" counting up by one, "prev"
// the SHA-256 of the line before. Reports the first line where that fails.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "gateway/core/result.h"

namespace xoev::audit {

struct VerifyReport {
  std::uint64_t lines = 0;  // lines read
  bool intact = true;
  std::uint64_t first_bad_line = 0;  // 1-based, when !intact
  std::string reason;
};

// A Problem only when the file cannot be read.
Result<VerifyReport> verify_audit_file(const std::filesystem::path& file);

}  // namespace xoev::audit
