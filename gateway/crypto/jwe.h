// JWE compact serialization (RFC 7516) with the algorithms xoevgate allows:
//   alg "RSA-OAEP-256"  (RSA, SHA-256 for OAEP and MGF1; FIT-Connect's choice)
//   alg "ECDH-ES+A256KW" (P-256 or X25519 ephemeral-static ECDH, Concat KDF,
//                         AES-256 key wrap of a random content key)
//   enc "A256GCM"
// Compression ("zip") is never produced nor accepted (compress-then-encrypt leaks
// content through the length).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "gateway/core/result.h"
#include "gateway/crypto/jwk.h"
#include "gateway/crypto/key_ring.h"

namespace xoev::crypto {

inline constexpr std::string_view kAlgRsaOaep256 = "RSA-OAEP-256";
inline constexpr std::string_view kAlgEcdhEsA256kw = "ECDH-ES+A256KW";
inline constexpr std::string_view kEncA256gcm = "A256GCM";

// The alg a key is used with for encryption: RSA → RSA-OAEP-256, P-256/X25519 →
// ECDH-ES+A256KW; a Problem for signature keys or a contradicting "alg" member.
Result<std::string> jwe_alg_for(const Jwk& key);

// Encrypts to the recipient's public key. The protected header holds alg, enc,
// kid (the key's, which must be set), epk for ECDH, and every member of
// extra_protected (e.g. "cty", "xoev"), so GCM authenticates all of them.
// extra_protected may carry "apu"/"apv" (base64url) for the Concat KDF; it may not
// set alg, enc, kid, epk, zip or crit.
Result<std::string> jwe_encrypt(std::string_view plaintext, const Jwk& recipient,
                                const nlohmann::json& extra_protected = nlohmann::json::object());

// The same with the extra members already as JSON text, e.g.
// "cty":"application/xml","xoev":{…} (no braces; empty for none), for the sealing hot
// path. The caller guarantees valid JSON without alg, enc, kid, epk, zip, crit, apu or
// apv members.
Result<std::string> jwe_encrypt_members(std::string_view plaintext, const Jwk& recipient, std::string_view extra_members);

struct JweLimits {
  std::size_t max_compact_bytes = 48u << 20;  // a 16 MiB message is ~21.4 MiB of base64url
  std::size_t max_header_bytes = 16u << 10;   // decoded protected header
};

struct JweContents {
  std::string plaintext;
  nlohmann::json protected_header;
};

// Decrypts with the ring's key named by the header's "kid" (or the only key when the
// header has none). Every failure is a ProblemKind::crypto whose detail names the
// part that is wrong; plaintext is returned only after the GCM tag verified.
Result<JweContents> jwe_decrypt(std::string_view compact, const KeyRing& keys, const JweLimits& limits = {});

}  // namespace xoev::crypto
