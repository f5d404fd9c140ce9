// Receipts this process signed, recognised by their bytes when they come back from
// xoev.receipts, so that the receipts tracker does not verify its own signatures again:
// an ECDSA verification (~60 µs) for each of a message's three receipts was more of the
// tracker's CPU than accepting the message took. What comes back byte for byte as this
// process signed it needs no proof; anything else is verified as before. Bounded: the
// newest kCapacity receipts (older ones are simply verified). Only a process that
// tracks receipts remembers any (a `deliver` process would hold them for nobody).
#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "gateway/crypto/jwk.h"

namespace xoev {

class OwnReceipts {
 public:
  static constexpr size_t kCapacity = 65536;
  // The one registry of this process: every ReceiptPublisher writes to it.
  static OwnReceipts& of_this_process();

  using Signer = std::shared_ptr<const crypto::Jwk>;  // the public key
  // From now on remember() keeps what it is given (a ReceiptsTracker exists).
  void start_remembering() { remembering_ = true; }
  // After signing: the record's key and value, and the key that signed them.
  void remember(std::string_view key, std::string_view value, Signer signer);
  // The key that signed exactly these bytes if this process did (forgotten then), else null.
  Signer take(std::string_view key, std::string_view value);

 private:
  using Digest = std::array<unsigned char, 32>;
  struct DigestHash {
    size_t operator()(const Digest& d) const;
  };
  static Digest digest_of(std::string_view key, std::string_view value);

  std::atomic<bool> remembering_{false};
  std::mutex mu_;
  std::unordered_map<Digest, Signer, DigestHash> signer_by_digest_;
  std::deque<Digest> order_;  // oldest first
};

}  // namespace xoev
