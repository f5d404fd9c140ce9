#include "gateway/core/file_copy.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace xoev {
namespace {

ssize_t copy_by_buffer(int in, int out, size_t want) {
  std::vector<char> buffer(std::min<size_t>(want, 1u << 20));
  ssize_t got;
  do got = ::read(in, buffer.data(), buffer.size());
  while (got < 0 && errno == EINTR);
  if (got <= 0) return got;
  for (ssize_t put = 0; put < got;) {
    const ssize_t n = ::write(out, buffer.data() + put, static_cast<size_t>(got - put));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    put += n;
  }
  return got;
}

}  // namespace

Status copy_file_bytes(int in, int out, uint64_t size, const std::string& source) {
  uint64_t copied = 0;
  while (copied < size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(size - copied, 64u << 20));
    ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, want, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL))
      n = copy_by_buffer(in, out, want);
    if (n == 0)
      return Problem::make(ProblemKind::io_error,
                           "cannot copy " + source + ": it is shorter than " + std::to_string(size) + " bytes");
    if (n < 0) return Problem::make(ProblemKind::io_error, "cannot copy " + source + ": " + std::strerror(errno));
    copied += static_cast<uint64_t>(n);
  }
  return ok_status();
}

}  // namespace xoev
