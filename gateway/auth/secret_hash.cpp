#include "gateway/auth/secret_hash.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <memory>
#include <optional>

#include "gateway/crypto/base64url.h"

namespace xoev::auth {

namespace {
constexpr std::size_t kHashBytes = 32;
constexpr std::size_t kSaltBytes = 16;
constexpr std::string_view kScheme = "pbkdf2-sha256";

std::optional<std::string> pbkdf2(std::string_view secret, std::string_view salt, unsigned iterations) {
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "PBKDF2", nullptr), &EVP_KDF_free);
  if (!kdf) return std::nullopt;
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()), &EVP_KDF_CTX_free);
  if (!ctx) return std::nullopt;
  char digest[] = "SHA256";
  unsigned iter = iterations;
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_uint(OSSL_KDF_PARAM_ITER, &iter),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  std::string out(kHashBytes, '\0');
  if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(), params) != 1) return std::nullopt;
  return out;
}
}  // namespace

Result<std::string> hash_secret(std::string_view secret, unsigned iterations) {
  std::string salt(kSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) != 1)
    return Problem::make(ProblemKind::crypto, "no random bytes for the salt");
  auto hash = pbkdf2(secret, salt, iterations);
  if (!hash) return Problem::make(ProblemKind::crypto, "PBKDF2 is not available");
  return std::string(kScheme) + "$" + std::to_string(iterations) + "$" + crypto::base64url_encode(salt) + "$" +
         crypto::base64url_encode(*hash);
}

bool secret_matches(std::string_view secret, std::string_view encoded) {
  const auto d1 = encoded.find('$');
  const auto d2 = d1 == std::string_view::npos ? d1 : encoded.find('$', d1 + 1);
  const auto d3 = d2 == std::string_view::npos ? d2 : encoded.find('$', d2 + 1);
  if (d3 == std::string_view::npos || encoded.substr(0, d1) != kScheme) return false;
  unsigned iterations = 0;
  for (char c : encoded.substr(d1 + 1, d2 - d1 - 1)) {
    if (c < '0' || c > '9' || iterations > 100'000'000) return false;
    iterations = iterations * 10 + static_cast<unsigned>(c - '0');
  }
  const auto salt = crypto::base64url_decode(encoded.substr(d2 + 1, d3 - d2 - 1));
  const auto expected = crypto::base64url_decode(encoded.substr(d3 + 1));
  if (!salt || !expected || expected->size() != kHashBytes || iterations == 0) return false;
  const auto actual = pbkdf2(secret, *salt, iterations);
  return actual && CRYPTO_memcmp(actual->data(), expected->data(), kHashBytes) == 0;
}

}  // namespace xoev::auth
