// Hostile JWE compact serializations against a ring of real keys (P-256, X25519,
// RSA): every input is either decrypted or refused with a Problem, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz_keys.h"
#include "gateway/crypto/jwe.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view compact(reinterpret_cast<const char*>(data), size);
  const xoev::crypto::JweLimits limits{.max_compact_bytes = 1u << 20, .max_header_bytes = 16u << 10};
  auto contents = xoev::crypto::jwe_decrypt(compact, xoev::fuzz::fuzz_decryption_ring(), limits);
  if (!contents) {
    if (contents.problem().kind != xoev::ProblemKind::crypto) std::abort();  // the promise of jwe.h
    return 0;
  }
  if (!contents->protected_header.is_object()) std::abort();
  return 0;
}
