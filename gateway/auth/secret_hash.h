// Client secrets are stored only as a slow salted hash:
// "pbkdf2-sha256$ITERATIONS$SALT$HASH" (SALT and HASH base64url, HASH 32 bytes),
// PBKDF2-HMAC-SHA256 through OpenSSL's EVP_KDF. Checked in constant time.
#pragma once

#include <string>
#include <string_view>

#include "gateway/core/result.h"

namespace xoev::auth {

inline constexpr unsigned kDefaultSecretIterations = 600000;  // OWASP 2023 for PBKDF2-SHA256

// A fresh random salt each call.
Result<std::string> hash_secret(std::string_view secret, unsigned iterations = kDefaultSecretIterations);
// False for a wrong secret and for a malformed hash.
bool secret_matches(std::string_view secret, std::string_view encoded_hash);

}  // namespace xoev::auth
