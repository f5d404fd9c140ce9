// A byte range of an open file, for answers too large to hold in memory (an XTA
// message of hundreds of MB): the file is opened when the answer is made, so a rename
// meanwhile (the mailbox closing the message) does not change what is sent.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "gateway/core/result.h"

namespace xoev {

class FileRange {
 public:
  // The bytes [offset, offset + length) of `file`: io_error if it cannot be opened or is
  // shorter than that.
  static Result<std::shared_ptr<const FileRange>> open(const std::filesystem::path& file, uint64_t offset,
                                                       uint64_t length);
  ~FileRange();
  FileRange(const FileRange&) = delete;
  FileRange& operator=(const FileRange&) = delete;

  uint64_t length() const { return length_; }
  // Reads up to into.size() bytes at `position` (0 = the range's first byte) into `into`:
  // the count read, 0 at the range's end, or an io_error (the file was cut short).
  Result<size_t> read(uint64_t position, std::span<char> into) const;

 private:
  FileRange(int fd, uint64_t offset, uint64_t length) : fd_(fd), offset_(offset), length_(length) {}
  int fd_;
  uint64_t offset_;
  uint64_t length_;
};

}  // namespace xoev
