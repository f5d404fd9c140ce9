#include "gateway/cli/read_input.h"

#include <fstream>
#include <iostream>

namespace xoev::cli {

Result<std::string> read_input(const std::string& file, std::size_t limit) {
  std::ifstream f;
  if (!file.empty()) {
    f.open(file, std::ios::binary);
    if (!f) return Problem::make(ProblemKind::io_error, "cannot read " + file);
  }
  std::istream& in = file.empty() ? std::cin : f;
  std::string data;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<std::size_t>(in.gcount()));
    if (data.size() > limit)
      return Problem::make(ProblemKind::payload_too_large,
                           "input exceeds " + std::to_string(limit >> 20) + " MiB");
  }
  if (in.bad()) return Problem::make(ProblemKind::io_error, "read error on " + (file.empty() ? "stdin" : file));
  return data;
}

}  // namespace xoev::cli
