// `xoevgate encrypt --key PUB.jwk [FILE]`: JWE compact of FILE (or stdin) on stdout,
// for operators who need to hand-feed a record or test a destination's key.
#include <fstream>
#include <iostream>

#include "gateway/cli/command.h"
#include "gateway/crypto/jwe.h"
#include "gateway/crypto/key_file.h"

namespace {

using xoev::Problem;
using xoev::ProblemKind;

constexpr std::size_t kMaxInputBytes = 256u << 20;

xoev::Result<std::string> read_input(const std::string& file) {
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
    if (data.size() > kMaxInputBytes) return Problem::make(ProblemKind::payload_too_large, "input exceeds 256 MiB");
  }
  if (in.bad()) return Problem::make(ProblemKind::io_error, "read error on " + (file.empty() ? "stdin" : file));
  return data;
}

xoev::cli::Runner setup(CLI::App& sub) {
  auto key_file = std::make_shared<std::string>();
  auto input = std::make_shared<std::string>();
  sub.add_option("--key", *key_file, "recipient key (JWK; its kid goes into the header)")->required();
  sub.add_option("FILE", *input, "plaintext file (default: stdin)");
  return [key_file, input] {
    auto ring = xoev::crypto::load_key_ring({*key_file});
    if (!ring) return xoev::cli::fail(ring.problem());
    auto plaintext = read_input(*input);
    if (!plaintext) return xoev::cli::fail(plaintext.problem());
    auto jwe = xoev::crypto::jwe_encrypt(*plaintext, ring->first()->public_key());
    if (!jwe) return xoev::cli::fail(jwe.problem());
    std::cout << *jwe << "\n";
    return std::cout.flush() ? 0 : 2;
  };
}

XOEVGATE_COMMAND("encrypt", "encrypt FILE (or stdin) to a public JWK; JWE compact on stdout", setup);

}  // namespace
