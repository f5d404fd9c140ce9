// `xoevgate decrypt --key JWK [FILE]`: the plaintext of a JWE compact (FILE or stdin)
// on stdout. --key may be repeated (rotation: the JWE's kid picks the key).
#include <fstream>
#include <iostream>

#include "gateway/cli/command.h"
#include "gateway/cli/read_input.h"
#include "gateway/crypto/jwe.h"
#include "gateway/crypto/key_file.h"
#include "gateway/crypto/openssl_util.h"

namespace {

using xoev::Problem;
using xoev::ProblemKind;

xoev::cli::Runner setup(CLI::App& sub) {
  auto key_files = std::make_shared<std::vector<std::string>>();
  auto input = std::make_shared<std::string>();
  sub.add_option("--key", *key_files, "private key (JWK, mode 0600); repeat for several kids")
      ->required()
      ->allow_extra_args(false);  // --key A FILE: FILE is the input, not a second key
  sub.add_option("FILE", *input, "JWE compact file (default: stdin)");
  return [key_files, input] {
    std::vector<std::filesystem::path> paths(key_files->begin(), key_files->end());
    auto ring = xoev::crypto::load_key_ring(paths);
    if (!ring) return xoev::cli::fail(ring.problem());
    const xoev::crypto::JweLimits limits;
    auto compact = xoev::cli::read_input(*input, limits.max_compact_bytes + 64);
    if (!compact) return xoev::cli::fail(compact.problem());
    // Files usually end with a newline; it is not part of the compact form.
    while (!compact->empty() && std::isspace(static_cast<unsigned char>(compact->back()))) compact->pop_back();
    auto opened = xoev::crypto::jwe_decrypt(*compact, *ring, limits);
    if (!opened) return xoev::cli::fail(opened.problem());
    std::cout.write(opened->plaintext.data(), static_cast<std::streamsize>(opened->plaintext.size()));
    xoev::crypto::cleanse(opened->plaintext);
    return std::cout.flush() ? 0 : 2;
  };
}

XOEVGATE_COMMAND("decrypt", "decrypt a JWE compact (FILE or stdin) with private JWK(s); plaintext on stdout", setup);

}  // namespace
