#include "gateway/core/file_range.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace xoev {

Result<std::shared_ptr<const FileRange>> FileRange::open(const std::filesystem::path& file, uint64_t offset,
                                                         uint64_t length) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Problem::make(ProblemKind::io_error, "cannot open " + file.string() + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || offset > static_cast<uint64_t>(st.st_size) ||
      length > static_cast<uint64_t>(st.st_size) - offset) {
    ::close(fd);
    return Problem::make(ProblemKind::io_error, file.string() + " is shorter than the " + std::to_string(length) +
                                                    " bytes expected at offset " + std::to_string(offset));
  }
  return std::shared_ptr<const FileRange>(new FileRange(fd, offset, length));
}

FileRange::~FileRange() { ::close(fd_); }

Result<size_t> FileRange::read(uint64_t position, std::span<char> into) const {
  if (position >= length_) return size_t{0};
  const size_t want = static_cast<size_t>(std::min<uint64_t>(into.size(), length_ - position));
  for (;;) {
    const ssize_t n = ::pread(fd_, into.data(), want, static_cast<off_t>(offset_ + position));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Problem::make(ProblemKind::io_error, std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) return Problem::make(ProblemKind::io_error, "the file ended before the range it was opened for");
    return static_cast<size_t>(n);
  }
}

}  // namespace xoev
