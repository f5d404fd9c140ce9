// Shared helpers for the crypto unit tests: keys generated once per process (RSA
// generation is slow) and part-wise tampering of compact serializations.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "gateway/crypto/base64url.h"
#include "gateway/crypto/jwk.h"
#include "gateway/crypto/key_ring.h"

namespace xoev::crypto::test {

inline const Jwk& cached_key(Jwk::Type type, const std::string& kid, const std::string& alg, unsigned bits = 3072) {
  static std::deque<std::pair<std::string, Jwk>> cache;  // deque: references stay valid
  for (auto& [k, v] : cache)
    if (k == kid) return v;
  auto key = Jwk::generate(type, kid, alg, bits);
  EXPECT_TRUE(key.ok());
  cache.emplace_back(kid, std::move(key).value());
  return cache.back().second;
}

inline const Jwk& rsa3072() { return cached_key(Jwk::Type::rsa, "rsa-3072", "RSA-OAEP-256", 3072); }
inline const Jwk& rsa4096() { return cached_key(Jwk::Type::rsa, "rsa-4096", "RSA-OAEP-256", 4096); }
inline const Jwk& p256_enc() { return cached_key(Jwk::Type::ec_p256, "p256-enc", "ECDH-ES+A256KW"); }
inline const Jwk& x25519_enc() { return cached_key(Jwk::Type::x25519, "x25519-enc", "ECDH-ES+A256KW"); }
inline const Jwk& es256_sig() { return cached_key(Jwk::Type::ec_p256, "es256-sig", "ES256"); }
inline const Jwk& ed25519_sig() { return cached_key(Jwk::Type::ed25519, "ed25519-sig", "EdDSA"); }

inline KeyRing ring_of(std::initializer_list<Jwk> keys) {
  KeyRing ring;
  for (const auto& k : keys) EXPECT_TRUE(ring.add(k).ok());
  return ring;
}

inline std::vector<std::string> split(const std::string& compact) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto dot = compact.find('.', start);
    parts.push_back(compact.substr(start, dot == std::string::npos ? dot : dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

inline std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "." : "") + parts[i];
  return out;
}

// Flips one bit of the decoded bytes of part `index` (byte `at`, counted from the
// end when negative) and re-encodes, so the result is still valid base64url.
inline std::string flip_bit(const std::string& compact, std::size_t index, long at = 0, int bit = 0) {
  auto parts = split(compact);
  auto raw = base64url_decode(parts.at(index));
  EXPECT_TRUE(raw.has_value());
  const auto pos = at >= 0 ? static_cast<std::size_t>(at) : raw->size() - static_cast<std::size_t>(-at);
  (*raw)[pos] = static_cast<char>((*raw)[pos] ^ (1 << bit));
  parts[index] = base64url_encode(*raw);
  return join(parts);
}

}  // namespace xoev::crypto::test
