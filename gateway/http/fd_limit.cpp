#include "gateway/http/fd_limit.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
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

namespace xoev::http {

std::size_t connection_capacity(std::uint64_t open_file_limit, std::size_t max_connections, int reserved_percent,
                                std::size_t reserved_min) {
  if (open_file_limit == 0) return max_connections;
  const std::uint64_t percent = static_cast<std::uint64_t>(std::clamp(reserved_percent, 0, 100));
  const std::uint64_t reserve = std::max<std::uint64_t>(reserved_min, open_file_limit * percent / 100);
  const std::uint64_t room = open_file_limit > reserve ? open_file_limit - reserve : open_file_limit / 2;
  return static_cast<std::size_t>(std::min<std::uint64_t>(max_connections, room));
}

}  // namespace xoev::http
