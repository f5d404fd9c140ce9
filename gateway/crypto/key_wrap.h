// AES Key Wrap (RFC 3394), used by "ECDH-ES+A256KW" to wrap the content key with the
// key derived from ECDH (RFC 7518 §4.4). KEK of 16, 24 or 32 bytes.
#pragma once

#include <string>
#include <string_view>

#include "gateway/core/result.h"
#include "gateway/crypto/openssl_util.h"

namespace xoev::crypto {

Result<std::string> aes_key_wrap(const Secret& kek, const Secret& key);

// Fails when the integrity check value does not match (altered key or wrong KEK).
Result<Secret> aes_key_unwrap(const Secret& kek, std::string_view wrapped);

}  // namespace xoev::crypto
