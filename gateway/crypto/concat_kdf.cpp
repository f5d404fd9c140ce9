#include "gateway/crypto/concat_kdf.h"

#include <openssl/core_names.h>

namespace xoev::crypto {
namespace {

void append_u32(std::string& out, std::size_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xFF);
}

void append_with_length(std::string& out, std::string_view data) {
  append_u32(out, data.size());
  out += data;
}

using KdfPtr = std::unique_ptr<EVP_KDF, Deleter<EVP_KDF_free>>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, Deleter<EVP_KDF_CTX_free>>;

}  // namespace

Result<Secret> concat_kdf(const Secret& shared_secret, std::string_view algorithm_id, std::string_view apu,
                          std::string_view apv, std::size_t key_bytes) {
  std::string other_info;
  append_with_length(other_info, algorithm_id);
  append_with_length(other_info, apu);
  append_with_length(other_info, apv);
  append_u32(other_info, key_bytes * 8);  // SuppPubInfo: keydatalen in bits

  // Fetched once: the provider lookup would otherwise cost more than the derivation.
  static const KdfPtr kdf(EVP_KDF_fetch(nullptr, "SSKDF", nullptr));
  KdfCtxPtr ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, const_cast<unsigned char*>(shared_secret.data()),
                                        shared_secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, other_info.data(), other_info.size()),
      OSSL_PARAM_construct_end()};
  Secret out(key_bytes);
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1)
    return crypto_problem(openssl_error("Concat KDF failed"));
  return out;
}

}  // namespace xoev::crypto
