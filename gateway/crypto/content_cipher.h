// AES-256-GCM, the JWE content encryption "A256GCM" (RFC 7518 §5.3): 96-bit IV,
// 128-bit tag, the protected header's base64url text as additional authenticated data.
#pragma once

#include <string>
#include <string_view>

#include "gateway/core/result.h"
#include "gateway/crypto/openssl_util.h"

namespace xoev::crypto {

inline constexpr std::size_t kGcmKeyBytes = 32;
inline constexpr std::size_t kGcmIvBytes = 12;
inline constexpr std::size_t kGcmTagBytes = 16;

struct GcmSealed {
  std::string ciphertext;
  std::string tag;
};

Result<GcmSealed> aes256gcm_encrypt(const Secret& key, std::string_view iv, std::string_view aad,
                                    std::string_view plaintext);

// Never returns plaintext unless the tag verified; a failure says only that
// authentication failed (GCM cannot tell which input was altered).
Result<std::string> aes256gcm_decrypt(const Secret& key, std::string_view iv, std::string_view aad,
                                      std::string_view ciphertext, std::string_view tag);

}  // namespace xoev::crypto
