// ECDH on P-256 or X25519 through EVP_PKEY_derive: the shared secret Z of RFC 7518 §4.6.
#pragma once

#include <openssl/evp.h>

#include <string>

#include "gateway/core/result.h"
#include "gateway/crypto/jwk.h"
#include "gateway/crypto/openssl_util.h"

namespace xoev::crypto {

// peer_public must come from a Jwk (parsed keys are point-checked there). Both keys
// must be of the same type (and curve). OpenSSL rejects an all-zero X25519
// result (a small-order peer point), so a malicious epk cannot force a known Z.
Result<Secret> ecdh_shared_secret(EVP_PKEY* own_private, EVP_PKEY* peer_public);

// A fresh key pair on the recipient's curve (ECDH-ES: one per message), with its
// public half as the JWK text of the "epk" header member.
struct EphemeralKey {
  PkeyPtr key;
  std::string public_jwk;
};
Result<EphemeralKey> generate_ephemeral_key(const Jwk& recipient);

}  // namespace xoev::crypto
