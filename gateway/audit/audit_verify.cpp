#include "gateway/audit/audit_verify.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "gateway/audit/audit_log.h"

namespace xoev::audit {

Result<VerifyReport> verify_audit_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Problem::make(ProblemKind::io_error, "cannot read the audit log '" + file.string() + "'");
  VerifyReport report;
  std::string line, prev_hash(64, '0');
  std::uint64_t prev_seq = 0;
  const auto fail = [&](std::string reason) {
    report.intact = false;
    report.first_bad_line = report.lines;
    report.reason = std::move(reason);
    return report;
  };
  while (std::getline(in, line)) {
    ++report.lines;
    const auto json = nlohmann::json::parse(line, nullptr, false);
    if (!json.is_object() || !json.contains("seq") || !json["seq"].is_number_unsigned() || !json.contains("prev") ||
        !json["prev"].is_string())
      return fail("not an audit line (edited, or text inserted)");
    const auto seq = json["seq"].get<std::uint64_t>();
    const auto prev = json["prev"].get<std::string>();
    const bool first = report.lines == 1;
    if (first && (seq != 1 || prev != std::string(64, '0')))
      return fail("the first line must have seq 1 and prev 000…0: line(s) removed from the start");
    if (!first && seq != prev_seq + 1) {
      if (seq > prev_seq + 1)
        return fail("seq " + std::to_string(seq) + " follows " + std::to_string(prev_seq) + ": " +
                    std::to_string(seq - prev_seq - 1) + " line(s) removed before this one");
      return fail("seq " + std::to_string(seq) + " follows " + std::to_string(prev_seq) + ": a line inserted or lines reordered");
    }
    if (!first && prev != prev_hash) {
      fail("its SHA-256 is not the prev of line " + std::to_string(report.lines) + ": it was edited");
      report.first_bad_line = report.lines - 1;
      return report;
    }
    prev_hash = sha256_hex(line);
    prev_seq = seq;
  }
  return report;
}

}  // namespace xoev::audit
