// Several keys of one role, newest first: encrypt (or sign) with the first, decrypt
// (or verify) by `kid`. Adding a new key in front rotates without downtime: old
// messages still open with the old key, which is removed once they are drained.
#pragma once

#include <string_view>
#include <vector>

#include "gateway/core/result.h"
#include "gateway/crypto/jwk.h"

namespace xoev::crypto {

class KeyRing {
 public:
  KeyRing() = default;

  // Refuses a key without kid and a kid that is already in the ring.
  Status add(Jwk key);

  const Jwk* find(std::string_view kid) const;
  const Jwk* first() const { return keys_.empty() ? nullptr : &keys_.front(); }
  bool empty() const { return keys_.empty(); }
  std::size_t size() const { return keys_.size(); }
  const std::vector<Jwk>& keys() const { return keys_; }
  // "a, b, c": for error messages.
  std::string kids() const;

 private:
  std::vector<Jwk> keys_;
};

}  // namespace xoev::crypto
