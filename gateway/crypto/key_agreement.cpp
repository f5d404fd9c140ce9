#include "gateway/crypto/key_agreement.h"

namespace xoev::crypto {

// The peer is not re-validated here: every peer key is a Jwk, whose parsing already
// checked the point (a second full check would double the cost of ECDH on P-256).
Result<Secret> ecdh_shared_secret(EVP_PKEY* own_private, EVP_PKEY* peer_public) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own_private, nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer_ex(ctx.get(), peer_public, /*validate_peer=*/0) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1)
    return crypto_problem(openssl_error("ECDH key agreement failed (the ephemeral key does not fit the recipient key)"));
  Secret z(len);
  if (EVP_PKEY_derive(ctx.get(), z.data(), &len) != 1)
    return crypto_problem(openssl_error("ECDH key agreement failed"));
  z.resize(len);
  return z;
}

Result<EphemeralKey> generate_ephemeral_key(const Jwk& recipient) {
  PkeyCtxPtr gen(EVP_PKEY_CTX_new_from_pkey(nullptr, recipient.pkey(), nullptr));
  EVP_PKEY* raw = nullptr;
  if (!gen || EVP_PKEY_keygen_init(gen.get()) != 1 || EVP_PKEY_keygen(gen.get(), &raw) != 1)
    return crypto_problem(openssl_error("ephemeral key generation failed"));
  EphemeralKey ephemeral{PkeyPtr(raw), {}};
  auto text = public_jwk_text(raw, recipient.type());  // same curve as the recipient's, by construction
  if (!text) return std::move(text).problem();
  ephemeral.public_jwk = std::move(text).value();
  return ephemeral;
}

}  // namespace xoev::crypto
