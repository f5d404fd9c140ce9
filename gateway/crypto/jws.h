// JWS compact serialization (RFC 7515) with ES256 (P-256, signature as raw r||s,
// RFC 7518 §3.4 — not DER) and EdDSA (Ed25519, RFC 8037). Verification takes a
// ring of trusted public keys and picks the key by "kid"; "alg" must fit the key,
// so neither "none" nor an HMAC-with-a-public-key confusion is possible.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "gateway/core/result.h"
#include "gateway/crypto/jwk.h"
#include "gateway/crypto/key_ring.h"

namespace xoev::crypto {

inline constexpr std::string_view kAlgEs256 = "ES256";
inline constexpr std::string_view kAlgEdDsa = "EdDSA";

// The signature alg of a key: EC P-256 → ES256, OKP Ed25519 → EdDSA.
Result<std::string> jws_alg_for(const Jwk& key);

// Header: alg, kid (the key's, which must be set) and every member of extra_header
// (which may not set alg or kid).
Result<std::string> jws_sign(std::string_view payload, const Jwk& private_key,
                             const nlohmann::json& extra_header = nlohmann::json::object());
// The same with the extra members already as JSON text ("typ":"…"; no braces, empty
// for none), for the sealing hot path. The caller guarantees valid JSON without alg/kid.
Result<std::string> jws_sign_members(std::string_view payload, const Jwk& private_key, std::string_view extra_members);

// The raw JWS signature (ES256: r||s, EdDSA: 64 bytes) over an already formed signing
// input "b64(header).b64(payload)", and its check. Exposed for RFC test vectors.
Result<std::string> jws_signature(std::string_view signing_input, const Jwk& private_key);
Status jws_check_signature(std::string_view signing_input, std::string_view signature, const Jwk& key);

struct JwsContents {
  std::string payload;
  nlohmann::json protected_header;
  std::string kid;  // the trusted key that verified it
};

// Problems (ProblemKind::crypto) name what is wrong: malformed, alg not allowed,
// unknown signing key kid=…, alg does not fit the key, signature does not match.
Result<JwsContents> jws_verify(std::string_view compact, const KeyRing& trusted, std::size_t max_compact_bytes = 48u << 20);

}  // namespace xoev::crypto
