// `xoevgate encrypt --key PUB.jwk [FILE]`: JWE compact of FILE (or stdin) on stdout,
// for operators who need to hand-feed a record or test a destination's key.
#include <fstream>
#include <iostream>

#include "gateway/cli/command.h"
#include "gateway/cli/read_input.h"
#include "gateway/crypto/jwe.h"
#include "gateway/crypto/key_file.h"

namespace {

using xoev::Problem;
using xoev::ProblemKind;

constexpr std::size_t kMaxInputBytes = 256u << 20;

xoev::cli::Runner setup(CLI::App& sub) {
  auto key_file = std::make_shared<std::string>();
  auto input = std::make_shared<std::string>();
  sub.add_option("--key", *key_file, "recipient key (JWK; its kid goes into the header)")->required();
  sub.add_option("FILE", *input, "plaintext file (default: stdin)");
  return [key_file, input] {
    auto ring = xoev::crypto::load_key_ring({*key_file});
    if (!ring) return xoev::cli::fail(ring.problem());
    auto plaintext = xoev::cli::read_input(*input, kMaxInputBytes);
    if (!plaintext) return xoev::cli::fail(plaintext.problem());
    auto jwe = xoev::crypto::jwe_encrypt(*plaintext, ring->first()->public_key());
    if (!jwe) return xoev::cli::fail(jwe.problem());
    std::cout << *jwe << "\n";
    return std::cout.flush() ? 0 : 2;
  };
}

XOEVGATE_COMMAND("encrypt", "encrypt FILE (or stdin) to a public JWK; JWE compact on stdout", setup);

}  // namespace
