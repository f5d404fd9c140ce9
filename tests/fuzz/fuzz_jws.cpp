// Hostile JWS compact serializations against trusted ES256 and EdDSA keys: verified or
// refused with a crypto Problem; a verified one names a trusted kid.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz_keys.h"
#include "gateway/crypto/jws.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view compact(reinterpret_cast<const char*>(data), size);
  const auto& trusted = xoev::fuzz::fuzz_trusted_ring();
  auto contents = xoev::crypto::jws_verify(compact, trusted, 1u << 20);
  if (!contents) {
    if (contents.problem().kind != xoev::ProblemKind::crypto) std::abort();
    return 0;
  }
  if (trusted.find(contents->kid) == nullptr) std::abort();
  return 0;
}
