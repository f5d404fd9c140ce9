// The audit chain: lines written, continued after reopening, and every kind of
// tampering found at the right line.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "gateway/audit/audit_log.h"
#include "gateway/audit/audit_verify.h"

namespace xoev::audit {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "xoev-audit-XXXXXX").string();
    path = mkdtemp(templ.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<std::string> lines_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

void write_lines(const fs::path& file, const std::vector<std::string>& lines) {
  std::ofstream out(file, std::ios::trunc);
  for (const auto& l : lines) out << l << "\n";
}

fs::path written_log(const TempDir& dir, int events) {
  const auto file = dir.path / "a" / "audit.jsonl";
  {
    auto log = AuditLog::open(file);
    EXPECT_TRUE(log);
    for (int i = 0; i < events / 2; ++i) (*log)->record({"accepted", "s", "m" + std::to_string(i), sha256_hex("x"), "d", 202, "ok", "", ""});
  }
  auto reopened = AuditLog::open(file);  // continues the chain
  EXPECT_TRUE(reopened);
  for (int i = events / 2; i < events; ++i) (*reopened)->record({"refused", "s", "", "", "", 403, "forbidden", "rule", ""});
  return file;
}

TEST(AuditLog, IntactChainVerifies) {
  TempDir dir;
  const auto file = written_log(dir, 6);
  auto report = verify_audit_file(file);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->intact) << report->reason;
  EXPECT_EQ(report->lines, 6u);
  const auto lines = lines_of(file);
  EXPECT_NE(lines[0].find(std::string(64, '0')), std::string::npos);
  EXPECT_NE(lines[4].find("\"seq\":5"), std::string::npos);
  EXPECT_NE(lines[3].find(sha256_hex(lines[2])), std::string::npos);  // across the reopen
}

struct Tamper {
  const char* name;
  std::vector<std::string> (*apply)(std::vector<std::string>);
  std::uint64_t bad_line;
};

TEST(AuditLog, FindsTheFirstTamperedLine) {
  TempDir dir;
  const auto file = written_log(dir, 6);
  const auto original = lines_of(file);
  const Tamper cases[] = {
      {"edited", [](std::vector<std::string> l) { l[2].replace(l[2].find("\"m2\""), 4, "\"m9\""); return l; }, 3},
      {"removed", [](std::vector<std::string> l) { l.erase(l.begin() + 2); return l; }, 3},
      {"removed first", [](std::vector<std::string> l) { l.erase(l.begin()); return l; }, 1},
      {"reordered", [](std::vector<std::string> l) { std::swap(l[2], l[3]); return l; }, 3},
      {"inserted", [](std::vector<std::string> l) { l.insert(l.begin() + 2, l[1]); return l; }, 3},
      {"garbage", [](std::vector<std::string> l) { l[4] = "hello"; return l; }, 5},
  };
  for (const auto& c : cases) {
    const auto copy = dir.path / (std::string(c.name) + ".jsonl");
    write_lines(copy, c.apply(original));
    auto report = verify_audit_file(copy);
    ASSERT_TRUE(report);
    EXPECT_FALSE(report->intact) << c.name;
    EXPECT_EQ(report->first_bad_line, c.bad_line) << c.name << ": " << report->reason;
  }
  EXPECT_FALSE(verify_audit_file(dir.path / "missing.jsonl"));
}

}  // namespace
}  // namespace xoev::audit
