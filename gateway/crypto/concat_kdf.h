// The Concat KDF of RFC 7518 §4.6.2 (NIST SP 800-56A single-step KDF, SHA-256),
// computed with OpenSSL's "SSKDF". OtherInfo = AlgorithmID || PartyUInfo ||
// PartyVInfo || SuppPubInfo, each variable part prefixed by its 32-bit length.
#pragma once

#include <string_view>

#include "gateway/core/result.h"
#include "gateway/crypto/openssl_util.h"

namespace xoev::crypto {

// algorithm_id: the "alg" value for key agreement with key wrapping ("ECDH-ES+A256KW"),
// apu/apv: the decoded "apu"/"apv" header values (empty when absent).
Result<Secret> concat_kdf(const Secret& shared_secret, std::string_view algorithm_id, std::string_view apu,
                          std::string_view apv, std::size_t key_bytes);

}  // namespace xoev::crypto
