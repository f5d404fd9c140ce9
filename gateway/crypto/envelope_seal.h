// Seals and opens the Kafka record of one message (CONTRACTS.md §3).
//
// seal(): the value becomes a JWE to the destination's newest key, whose protected
// header carries cty "application/xml" and
//   "xoev": {"id", "type", "sender", "recipient", "destination"}
// (from the headers xoev-message-id, -message-type, -sender, -recipient,
// -destination), so GCM authenticates the routing data; then header
// `xoev-signature` is added: a compact JWS (ES256 or EdDSA, header
// {"alg", "kid", "typ": "xoev-envelope-signature"}) by the gateway key.
//
// Signing input — the JWS payload is the UTF-8 JSON object
//   {"headers": {"<name>": "<value>" | null, ...}, "sha256": "<b64url(SHA-256(value))>"}
// with one member for every name in header::signed_headers (null when the record
// lacks that header), serialized with sorted keys and no whitespace. "value" is the
// Kafka record value as produced, i.e. the JWE compact text. The verifier does not
// re-serialize: it checks the JWS, then compares each signed member with the
// record (SHA-256 with CRYPTO_memcmp), so any JSON form of the same claims verifies.
//
// open(): verifies the signature first (nothing unauthenticated is decrypted), then
// decrypts by kid, then checks the protected "xoev" claims against the headers.
// A chunk record (protected xoev with a "chunk" member, see chunk_seal.h) is refused:
// one chunk must never pass as a whole message.
#pragma once

#include <string>

#include "gateway/core/result.h"
#include "gateway/crypto/jwe.h"
#include "gateway/crypto/jwk.h"
#include "gateway/crypto/key_ring.h"
#include "gateway/kafka/envelope.h"

namespace xoev::crypto {

inline constexpr std::string_view kEnvelopeSignatureType = "xoev-envelope-signature";

Status seal(Envelope& env, const KeyRing& recipient_public_keys, const Jwk& gateway_signing_key);

// Problems are ProblemKind::crypto; the detail starts with what failed:
// "unsigned: …", "JWS: unknown signing key kid=…", "JWS: signature does not match …",
// "signature does not cover this record: …", "JWE: …", "protected header …".
Result<std::string> open(const Envelope& env, const KeyRing& trusted_gateways, const KeyRing& decryption_keys);

// The two halves both record kinds share (single records here, chunk records in
// chunk_seal.cpp), so the format lives in one place.
namespace envelope_parts {
// seal() with `extra_xoev_members` (JSON members text such as "chunk":{…}, empty for
// none) spliced into the protected "xoev" object after the five routing claims.
Status seal_with(Envelope& env, const KeyRing& recipient_public_keys, const Jwk& gateway_signing_key,
                 std::string_view extra_xoev_members);
// open() up to and including the check of cty and the five routing claims; whatever
// else "xoev" holds is the caller's to judge.
Result<JweContents> open_verified(const Envelope& env, const KeyRing& trusted_gateways, const KeyRing& decryption_keys);
}  // namespace envelope_parts

}  // namespace xoev::crypto
