// Receipts are signed like records (CONTRACTS.md §3): whoever can write to
// xoev.receipts must not be able to change a message's status, answer a resend or
// trigger a sender callback.
//
// Signature input — header `xoev-signature` is a compact JWS (ES256 or EdDSA, header
// {"alg", "kid", "typ": "xoev-receipt-signature"}) whose payload is the UTF-8 JSON
//   {"key": "<record key = message id>", "sha256": "<b64url(SHA-256(record value))>"}
// by the publisher's key: the gateway's signing key for "accepted", a deliverer's own
// `adapter.signing_key` (default keys.signing) for the rest. Readers trust
// keys.trusted_gateways plus keys.trusted_deliverers. The verifier compares key and
// digest with the record (constant time), and the receipt's messageId with the key.
#pragma once

#include <string_view>

#include "gateway/config/config.h"
#include "gateway/core/result.h"
#include "gateway/crypto/jwk.h"
#include "gateway/crypto/key_ring.h"
#include "gateway/kafka/envelope.h"
#include "gateway/status/receipt.h"

namespace xoev {

inline constexpr std::string_view kReceiptSignatureType = "xoev-receipt-signature";

// Adds (or replaces) the xoev-signature header over env.key and env.value.
Status sign_receipt(Envelope& env, const crypto::Jwk& signing_key);

// The receipt, only if the record is signed by a trusted key and the signature covers
// exactly this key and value. Problems (ProblemKind::crypto) say what failed.
Result<Receipt> verify_receipt(const Envelope& env, const crypto::KeyRing& trusted);

// The keys readers accept receipts from: keys.trusted_gateways, then
// keys.trusted_deliverers (a file named in both counts once).
Result<crypto::KeyRing> load_receipt_signers(const KeysSection& keys);

}  // namespace xoev
