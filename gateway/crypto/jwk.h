// A JSON Web Key (RFC 7517/7518/8037) backed by an OpenSSL EVP_PKEY: RSA, EC P-256,
// OKP X25519 (key agreement) and OKP Ed25519 (signatures); public or private.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "gateway/core/result.h"

namespace xoev::crypto {

class Jwk {
 public:
  enum class Type { rsa, ec_p256, x25519, ed25519 };

  // Parses one JWK object. Unknown members are ignored; sizes, curves and points are
  // checked (an EC point must lie on P-256, RSA moduli must have 2048..16384 bits).
  static Result<Jwk> from_json(const nlohmann::json& j);
  static Result<Jwk> parse(std::string_view json_text);

  // A fresh private key. rsa_bits only matters for Type::rsa.
  static Result<Jwk> generate(Type type, std::string kid, std::string alg, unsigned rsa_bits = 4096);

  nlohmann::json to_json(bool with_private) const;
  // Pretty JSON text plus newline, as written to key files.
  std::string serialize(bool with_private) const;
  Jwk public_key() const;

  Type type() const { return type_; }
  bool is_private() const { return is_private_; }
  const std::string& kid() const { return kid_; }
  const std::string& alg() const { return alg_; }
  const std::string& use() const { return use_; }
  void set_kid(std::string kid) { kid_ = std::move(kid); }
  void set_alg(std::string alg) { alg_ = std::move(alg); }
  void set_use(std::string use) { use_ = std::move(use); }
  unsigned bits() const;
  // "RSA-4096", "EC P-256", "OKP X25519", "OKP Ed25519": for error messages.
  std::string describe() const;

  // The OpenSSL key; shared by copies of this Jwk. Read-only use from several
  // threads is safe (each operation creates its own EVP_PKEY_CTX).
  EVP_PKEY* pkey() const { return pkey_.get(); }

 private:
  Jwk() = default;
  // Wraps a freshly generated key (takes ownership), detecting its type.
  static Result<Jwk> from_pkey(EVP_PKEY* pkey, bool is_private);
  std::shared_ptr<EVP_PKEY> pkey_;
  Type type_ = Type::rsa;
  bool is_private_ = false;
  std::string kid_, alg_, use_;
};

// The public members of an EC P-256 or OKP key as JSON text,
// {"kty":…,"crv":…,"x":…[,"y":…]}: the "epk" of every ECDH-ES message, written
// without a JSON tree. type must be the key's.
Result<std::string> public_jwk_text(EVP_PKEY* pkey, Jwk::Type type);

}  // namespace xoev::crypto
