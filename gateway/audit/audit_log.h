// The tamper-evident audit log: one JSON line per decision, each carrying "seq" (one
// more than the line before) and "prev" (hex SHA-256 of the line before, as written;
// 64 zeros for the first). Editing, removing, inserting or reordering a line breaks the
// chain at that point (`xoevgate audit verify`). Appends continue the chain of an
// existing file. Thread-safe; each line is written and flushed whole.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "gateway/audit/audit_event.h"
#include "gateway/core/result.h"

namespace xoev::audit {

class AuditLog {
 public:
  static Result<std::unique_ptr<AuditLog>> open(const std::filesystem::path& file);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Failures are logged (an unwritable audit log is loud), never thrown.
  void record(const AuditEvent& event);
  const std::filesystem::path& file() const { return file_; }

 private:
  AuditLog() = default;
  std::filesystem::path file_;
  std::mutex mutex_;
  std::FILE* out_ = nullptr;
  std::uint64_t seq_ = 0;
  std::string prev_;
};

std::string sha256_hex(std::string_view bytes);

}  // namespace xoev::audit

namespace xoev {
// The audit log of a separate `xoevgate deliver` process: audit.file + "." + destination,
// so no two processes ever append to one hash chain (in-process deliverers share audit.file).
inline std::filesystem::path deliverer_audit_file(const std::filesystem::path& audit_file, const std::string& destination) {
  return audit_file.string() + "." + destination;
}

}  // namespace xoev::audit
