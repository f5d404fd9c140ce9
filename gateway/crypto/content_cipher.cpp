#include "gateway/crypto/content_cipher.h"

#include <algorithm>
#include <climits>

namespace xoev::crypto {
namespace {

// Fetched once: an explicit fetch avoids the provider lookup on every message.
const EVP_CIPHER* aes256gcm() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

constexpr std::size_t kChunk = 1u << 30;  // EVP_*Update takes int lengths

Status check_sizes(const Secret& key, std::string_view iv) {
  if (key.size() != kGcmKeyBytes) return crypto_problem("A256GCM needs a 32-byte key");
  if (iv.size() != kGcmIvBytes) return crypto_problem("A256GCM needs a 12-byte iv");
  return ok_status();
}

}  // namespace

Result<GcmSealed> aes256gcm_encrypt(const Secret& key, std::string_view iv, std::string_view aad,
                                    std::string_view plaintext) {
  if (auto s = check_sizes(key, iv); !s) return std::move(s).problem();
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || !aes256gcm() || EVP_EncryptInit_ex2(ctx.get(), aes256gcm(), key.data(), bytes(iv), nullptr) != 1)
    return crypto_problem(openssl_error("AES-GCM init failed"));
  int len = 0;
  for (std::size_t off = 0; off < aad.size(); off += kChunk) {
    const auto n = static_cast<int>(std::min(kChunk, aad.size() - off));
    if (EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad) + off, n) != 1)
      return crypto_problem(openssl_error("AES-GCM aad failed"));
  }
  GcmSealed out;
  out.ciphertext.resize(plaintext.size());
  auto* dst = reinterpret_cast<unsigned char*>(out.ciphertext.data());
  for (std::size_t off = 0; off < plaintext.size(); off += kChunk) {
    const auto n = static_cast<int>(std::min(kChunk, plaintext.size() - off));
    if (EVP_EncryptUpdate(ctx.get(), dst + off, &len, bytes(plaintext) + off, n) != 1)
      return crypto_problem(openssl_error("AES-GCM encrypt failed"));
  }
  out.tag.resize(kGcmTagBytes);
  if (EVP_EncryptFinal_ex(ctx.get(), dst + plaintext.size(), &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagBytes), out.tag.data()) != 1)
    return crypto_problem(openssl_error("AES-GCM finish failed"));
  return out;
}

Result<std::string> aes256gcm_decrypt(const Secret& key, std::string_view iv, std::string_view aad,
                                      std::string_view ciphertext, std::string_view tag) {
  if (auto s = check_sizes(key, iv); !s) return std::move(s).problem();
  if (tag.size() != kGcmTagBytes) return crypto_problem("A256GCM needs a 16-byte tag");
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || !aes256gcm() || EVP_DecryptInit_ex2(ctx.get(), aes256gcm(), key.data(), bytes(iv), nullptr) != 1)
    return crypto_problem(openssl_error("AES-GCM init failed"));
  int len = 0;
  for (std::size_t off = 0; off < aad.size(); off += kChunk) {
    const auto n = static_cast<int>(std::min(kChunk, aad.size() - off));
    if (EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad) + off, n) != 1)
      return crypto_problem(openssl_error("AES-GCM aad failed"));
  }
  std::string plain(ciphertext.size(), '\0');
  auto* dst = reinterpret_cast<unsigned char*>(plain.data());
  for (std::size_t off = 0; off < ciphertext.size(); off += kChunk) {
    const auto n = static_cast<int>(std::min(kChunk, ciphertext.size() - off));
    if (EVP_DecryptUpdate(ctx.get(), dst + off, &len, bytes(ciphertext) + off, n) != 1) {
      cleanse(plain);
      return crypto_problem(openssl_error("AES-GCM decrypt failed"));
    }
  }
  std::string tag_copy(tag);  // the ctrl takes a non-const pointer
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagBytes), tag_copy.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), dst + ciphertext.size(), &len) != 1) {
    cleanse(plain);  // unauthenticated bytes never leave this function
    openssl_error("");
    return crypto_problem(
        "content authentication failed: the protected header, iv, ciphertext or tag was altered, or the key is wrong");
  }
  return plain;
}

}  // namespace xoev::crypto
