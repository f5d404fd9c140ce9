// Small RAII and error helpers around OpenSSL 3 EVP objects, shared by the crypto unit.
#pragma once

#include <openssl/core.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/problem.h"
#include "gateway/core/result.h"

namespace xoev::crypto {

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const { Free(p); }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_clear_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;

// Key material that is wiped when it goes away. Move-only and heap-backed, so no
// copy of the secret is left behind in a small-string buffer.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::size_t size) : bytes_(size) {}
  Secret(const unsigned char* data, std::size_t size) : bytes_(data, data + size) {}
  Secret(Secret&&) noexcept = default;
  Secret& operator=(Secret&& other) noexcept {
    wipe();
    bytes_ = std::move(other.bytes_);
    return *this;
  }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { wipe(); }

  unsigned char* data() { return bytes_.data(); }
  const unsigned char* data() const { return bytes_.data(); }
  std::size_t size() const { return bytes_.size(); }
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()}; }
  void resize(std::size_t n);  // shrinking wipes the tail first

 private:
  void wipe();
  std::vector<unsigned char> bytes_;
};

// "what: reason from the OpenSSL error queue"; empties the queue so that later
// calls do not report stale errors.
std::string openssl_error(std::string_view what);

// A ProblemKind::crypto Problem with that detail.
Problem crypto_problem(std::string detail);

// Wipes a std::string in place (for private-key JSON text and plaintext copies).
void cleanse(std::string& s);

inline const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace xoev::crypto
