// Writes valid JWE and JWS seeds made with the fixed fuzz keys into DIR/jwe and DIR/jws,
// so the JOSE fuzzers start from inputs that pass every check and mutate from there.
// Generated at run time (GCM nonces and ECDH keys are random), never committed.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_keys.h"
#include "gateway/crypto/jwe.h"
#include "gateway/crypto/jws.h"

namespace {
void write(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary) << text;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds DIR\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir / "jwe");
  std::filesystem::create_directories(dir / "jws");
  const std::string plaintexts[] = {"", "x", "<r xmlns=\"urn:x\"><a>1</a></r>", std::string(300, 'p')};
  int n = 0;
  for (const auto kid : {"fuzz-ec", "fuzz-x25519", "fuzz-rsa"}) {
    const auto key = xoev::fuzz::fuzz_key(kid).public_key();
    for (const auto& plaintext : plaintexts) {
      auto jwe = xoev::crypto::jwe_encrypt(plaintext, key, {{"cty", "application/xml"}, {"xoev", {{"d", "dest"}}}});
      if (!jwe) return std::fprintf(stderr, "%s\n", jwe.problem().one_line().c_str()), 1;
      write(dir / "jwe" / ("generated-" + std::to_string(n++)), *jwe);
    }
  }
  for (const auto kid : {"fuzz-ec", "fuzz-ed"}) {
    const auto key = xoev::fuzz::fuzz_key(kid);
    for (const auto& payload : plaintexts) {
      auto jws = xoev::crypto::jws_sign(payload, key, {{"typ", "xoev-record"}});
      if (!jws) return std::fprintf(stderr, "%s\n", jws.problem().one_line().c_str()), 1;
      write(dir / "jws" / ("generated-" + std::to_string(n++)), *jws);
    }
  }
  return 0;
}
