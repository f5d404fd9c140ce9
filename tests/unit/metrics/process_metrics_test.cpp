#include "gateway/metrics/process_metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>

#include "gateway/metrics/build_info.h"

namespace xoev::metrics {
namespace {

double value_of(const std::string& text, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("\n" + name + " ([0-9.e+]+)\n"))) return -1;
  return std::stod(m[1]);
}

TEST(ProcessMetrics, ReadsThisProcessFromProc) {
  Exposition out;
  write_process_metrics(out);
  const std::string text = "\n" + out.text();
  EXPECT_GT(value_of(text, "process_resident_memory_bytes"), 1e6) << text;
  EXPECT_GT(value_of(text, "process_open_fds"), 2) << text;  // at least stdin, stdout, stderr
  EXPECT_GE(value_of(text, "process_cpu_seconds_total"), 0) << text;
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double start = value_of(text, "process_start_time_seconds");
  EXPECT_LE(start, now + 1) << text;
  EXPECT_GT(start, now - 3600) << "a unit test started within the hour: " << text;
}

TEST(BuildInfo, IsOneWithTheVersionLabel) {
  Exposition out;
  write_build_info(out);
  EXPECT_TRUE(std::regex_search(out.text(), std::regex("\nxoevgate_build_info\\{version=\"[0-9]+\\.[0-9]+\\.[0-9]+\",.*\\} 1\n")))
      << out.text();
}

}  // namespace
}  // namespace xoev::metrics
