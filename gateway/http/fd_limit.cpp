#include "gateway/http/fd_limit.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace xoev::http {

std::uint64_t raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur >= limit.rlim_max) return limit.rlim_cur;
  rlimit raised = limit;
  raised.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    spdlog::warn("http: cannot raise the open-file limit from {} to {}: {}", limit.rlim_cur, limit.rlim_max,
                 std::strerror(errno));
    return limit.rlim_cur;
  }
  return raised.rlim_cur;
}

}  // namespace xoev::http
