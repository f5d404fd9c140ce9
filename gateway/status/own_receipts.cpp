#include "gateway/status/own_receipts.h"

#include <openssl/evp.h>

#include <cstring>

namespace xoev {

OwnReceipts& OwnReceipts::of_this_process() {
  static OwnReceipts registry;
  return registry;
}

size_t OwnReceipts::DigestHash::operator()(const Digest& d) const {
  size_t h = 0;
  std::memcpy(&h, d.data(), sizeof h);  // a SHA-256 is spread evenly already
  return h;
}

// Key and value, with the key's length first, so no two (key, value) pairs share bytes.
OwnReceipts::Digest OwnReceipts::digest_of(std::string_view key, std::string_view value) {
  Digest d{};
  const uint64_t key_size = key.size();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned int len = 0;
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, &key_size, sizeof key_size) == 1 &&
                  EVP_DigestUpdate(ctx, key.data(), key.size()) == 1 &&
                  EVP_DigestUpdate(ctx, value.data(), value.size()) == 1 && EVP_DigestFinal_ex(ctx, d.data(), &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) d.fill(0);  // no digest: never remembered, so the receipt is verified
  return d;
}

void OwnReceipts::remember(std::string_view key, std::string_view value, Signer signer) {
  if (!remembering_) return;
  const Digest d = digest_of(key, value);
  if (d == Digest{} || !signer) return;
  std::lock_guard lock(mu_);
  if (!signer_by_digest_.insert_or_assign(d, std::move(signer)).second) return;
  order_.push_back(d);
  if (order_.size() > kCapacity) {
    signer_by_digest_.erase(order_.front());
    order_.pop_front();
  }
}

OwnReceipts::Signer OwnReceipts::take(std::string_view key, std::string_view value) {
  const Digest d = digest_of(key, value);
  if (d == Digest{}) return nullptr;
  std::lock_guard lock(mu_);
  auto it = signer_by_digest_.find(d);
  if (it == signer_by_digest_.end()) return nullptr;
  Signer signer = std::move(it->second);
  signer_by_digest_.erase(it);  // its place in order_ goes when it comes to the front
  return signer;
}

}  // namespace xoev
