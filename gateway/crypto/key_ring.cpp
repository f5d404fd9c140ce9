#include "gateway/crypto/key_ring.h"

#include "gateway/crypto/openssl_util.h"

namespace xoev::crypto {

Status KeyRing::add(Jwk key) {
  if (key.kid().empty()) return crypto_problem("key has no \"kid\"; every key in a key ring needs one");
  if (find(key.kid()) != nullptr) return crypto_problem("two keys with kid=" + key.kid());
  keys_.push_back(std::move(key));
  return ok_status();
}

const Jwk* KeyRing::find(std::string_view kid) const {
  for (const auto& k : keys_)
    if (k.kid() == kid) return &k;
  return nullptr;
}

std::string KeyRing::kids() const {
  std::string out;
  for (const auto& k : keys_) out += (out.empty() ? "" : ", ") + k.kid();
  return out;
}

}  // namespace xoev::crypto
