#include "gateway/metrics/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace xoev::metrics {
namespace {

// The fields of /proc/self/stat after "pid (comm)": index 0 is field 3 (state).
// comm may hold spaces and parentheses, so the split starts after the last ')'.
std::vector<std::string> stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = all.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(all.substr(close + 1));
  return {std::istream_iterator<std::string>(rest), std::istream_iterator<std::string>()};
}

// Seconds since the epoch at which the machine booted (/proc/stat btime), 0 if unknown.
double boot_time() {
  std::ifstream in("/proc/stat");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  return 0;
}

}  // namespace

void write_process_metrics(Exposition& out) {
  const auto f = stat_fields();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  // Field n of proc(5) is f[n - 3].
  auto field = [&](size_t n) { return std::stod(f.at(n - 3)); };
  if (f.size() >= 22 && ticks > 0) {
    out.family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", MetricType::counter)
        .sample({}, (field(14) + field(15)) / ticks);
    out.family("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::gauge).sample({}, field(23));
    out.family("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::gauge)
        .sample({}, field(24) * page);
    if (const double boot = boot_time(); boot > 0)
      out.family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                 MetricType::gauge)
          .sample({}, boot + field(22) / ticks);
  }
  std::error_code ec;
  double fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++fds;
  if (!ec)
    out.family("process_open_fds", "Number of open file descriptors.", MetricType::gauge).sample({}, fds - 1);  // minus the iterator's own
  if (rlimit lim{}; getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
    out.family("process_max_fds", "Maximum number of open file descriptors.", MetricType::gauge)
        .sample({}, static_cast<double>(lim.rlim_cur));
}

}  // namespace xoev::metrics
