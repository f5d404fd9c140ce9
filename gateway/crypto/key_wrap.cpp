#include "gateway/crypto/key_wrap.h"

namespace xoev::crypto {
namespace {

const EVP_CIPHER* wrap_cipher(std::size_t kek_bytes) {
  static EVP_CIPHER* aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-WRAP", nullptr);
  static EVP_CIPHER* aes192 = EVP_CIPHER_fetch(nullptr, "AES-192-WRAP", nullptr);
  static EVP_CIPHER* aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-WRAP", nullptr);
  switch (kek_bytes) {
    case 16: return aes128;
    case 24: return aes192;
    case 32: return aes256;
    default: return nullptr;
  }
}

constexpr std::size_t kBlock = 8;

}  // namespace

Result<std::string> aes_key_wrap(const Secret& kek, const Secret& key) {
  const EVP_CIPHER* cipher = wrap_cipher(kek.size());
  if (!cipher) return crypto_problem("AES key wrap needs a 16, 24 or 32-byte key");
  if (key.size() < 2 * kBlock || key.size() % kBlock != 0) return crypto_problem("AES key wrap input must be n*8 bytes, n>=2");
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::string out(key.size() + kBlock, '\0');
  int len = 0, fin = 0;
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), cipher, kek.data(), nullptr, nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), dst, &len, key.data(), static_cast<int>(key.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), dst + len, &fin) != 1)
    return crypto_problem(openssl_error("AES key wrap failed"));
  out.resize(static_cast<std::size_t>(len + fin));
  return out;
}

Result<Secret> aes_key_unwrap(const Secret& kek, std::string_view wrapped) {
  const EVP_CIPHER* cipher = wrap_cipher(kek.size());
  if (!cipher) return crypto_problem("AES key wrap needs a 16, 24 or 32-byte key");
  if (wrapped.size() < 3 * kBlock || wrapped.size() % kBlock != 0)
    return crypto_problem("wrapped key has " + std::to_string(wrapped.size()) + " bytes (must be n*8, n>=3)");
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Secret out(wrapped.size());
  int len = 0, fin = 0;
  if (!ctx || EVP_DecryptInit_ex2(ctx.get(), cipher, kek.data(), nullptr, nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, bytes(wrapped), static_cast<int>(wrapped.size())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &fin) != 1) {
    openssl_error("");
    return crypto_problem("encrypted key failed the AES key wrap integrity check (altered, or wrong recipient key)");
  }
  out.resize(static_cast<std::size_t>(len + fin));
  return out;
}

}  // namespace xoev::crypto
