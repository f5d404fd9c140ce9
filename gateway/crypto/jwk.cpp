#include "gateway/crypto/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include "gateway/crypto/base64url.h"
#include "gateway/crypto/json_text.h"
#include "gateway/crypto/openssl_util.h"

namespace xoev::crypto {
namespace {

constexpr std::size_t kP256Bytes = 32;
constexpr std::size_t kOkpBytes = 32;
constexpr unsigned kMinRsaBits = 2048;
constexpr unsigned kMaxRsaBits = 16384;

Problem key_problem(std::string detail) { return crypto_problem("invalid JWK: " + std::move(detail)); }

// Reads a base64url member; exact_size 0 means any non-empty size.
Result<std::string> member_bytes(const nlohmann::json& j, const char* name, std::size_t exact_size = 0) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return key_problem(std::string("member \"") + name + "\" missing or not a string");
  auto bytes = base64url_decode(it->get_ref<const std::string&>());
  if (!bytes || bytes->empty()) return key_problem(std::string("member \"") + name + "\" is not base64url");
  if (exact_size != 0 && bytes->size() != exact_size) {
    cleanse(*bytes);
    return key_problem(std::string("member \"") + name + "\" must be " + std::to_string(exact_size) + " bytes");
  }
  return std::move(*bytes);
}

BnPtr to_bn(std::string_view big_endian) {
  return BnPtr(BN_bin2bn(bytes(big_endian), static_cast<int>(big_endian.size()), nullptr));
}

std::string string_member(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

Result<PkeyPtr> from_params(const char* key_type, OSSL_PARAM_BLD* bld, bool is_private) {
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, key_type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return key_problem(openssl_error(std::string("OpenSSL refused the ") + key_type + " key"));
  return PkeyPtr(raw);
}

Result<PkeyPtr> parse_rsa(const nlohmann::json& j, bool is_private) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  std::vector<BnPtr> keep;  // the builder references the BIGNUMs until to_param
  auto push = [&](const char* member, const char* param, bool required) -> Status {
    if (!j.contains(member) && !required) return ok_status();
    auto raw = member_bytes(j, member);
    if (!raw) return std::move(raw).problem();
    keep.push_back(to_bn(*raw));
    cleanse(*raw);
    if (!keep.back() || OSSL_PARAM_BLD_push_BN(bld.get(), param, keep.back().get()) != 1)
      return key_problem(openssl_error("cannot build RSA parameters"));
    return ok_status();
  };
  if (auto s = push("n", OSSL_PKEY_PARAM_RSA_N, true); !s) return std::move(s).problem();
  if (auto s = push("e", OSSL_PKEY_PARAM_RSA_E, true); !s) return std::move(s).problem();
  if (is_private) {
    if (auto s = push("d", OSSL_PKEY_PARAM_RSA_D, true); !s) return std::move(s).problem();
    const bool crt = j.contains("p");
    if (auto s = push("p", OSSL_PKEY_PARAM_RSA_FACTOR1, crt); !s) return std::move(s).problem();
    if (auto s = push("q", OSSL_PKEY_PARAM_RSA_FACTOR2, crt); !s) return std::move(s).problem();
    if (auto s = push("dp", OSSL_PKEY_PARAM_RSA_EXPONENT1, crt); !s) return std::move(s).problem();
    if (auto s = push("dq", OSSL_PKEY_PARAM_RSA_EXPONENT2, crt); !s) return std::move(s).problem();
    if (auto s = push("qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1, crt); !s) return std::move(s).problem();
  }
  auto pkey = from_params("RSA", bld.get(), is_private);
  if (!pkey) return pkey;
  const int bits = EVP_PKEY_get_bits(pkey->get());
  if (bits < static_cast<int>(kMinRsaBits) || bits > static_cast<int>(kMaxRsaBits))
    return key_problem("RSA modulus of " + std::to_string(bits) + " bits (allowed: 2048..16384)");
  return pkey;
}

// Every received epk comes through here. Importing by group name builds the curve
// (Montgomery set-up, inversions) anew each time, which costs a third of an ECDH;
// copying the parameters of a key made once and setting the point skips that.
Result<PkeyPtr> p256_public(std::string_view point) {
  static const PkeyPtr curve(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  PkeyPtr pkey(EVP_PKEY_new());
  if (!curve || !pkey || EVP_PKEY_copy_parameters(pkey.get(), curve.get()) != 1)
    return key_problem(openssl_error("cannot set up a P-256 key"));
  // OpenSSL decodes the point with EC_POINT_oct2point, which refuses points off the curve.
  if (EVP_PKEY_set1_encoded_public_key(pkey.get(), bytes(point), point.size()) != 1)
    return key_problem(openssl_error("the EC point is not on P-256"));
  return pkey;
}

Result<PkeyPtr> p256_keypair(std::string_view point, const nlohmann::json& j) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
    return key_problem(openssl_error("cannot build EC parameters"));
  auto raw = member_bytes(j, "d", kP256Bytes);
  if (!raw) return std::move(raw).problem();
  BnPtr d = to_bn(*raw);
  cleanse(*raw);
  if (!d || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1)
    return key_problem(openssl_error("cannot build EC parameters"));
  return from_params("EC", bld.get(), true);
}

Result<PkeyPtr> parse_p256(const nlohmann::json& j, bool is_private) {
  auto x = member_bytes(j, "x", kP256Bytes);
  if (!x) return std::move(x).problem();
  auto y = member_bytes(j, "y", kP256Bytes);
  if (!y) return std::move(y).problem();
  const std::string point = "\x04" + *x + *y;  // uncompressed SEC1 point
  auto pkey = is_private ? p256_keypair(point, j) : p256_public(point);
  if (!pkey) return pkey;
  // Invalid-curve attacks: the peer's point must lie on P-256; a private key must match
  // its point. P-256 has cofactor 1, so "on the curve and not infinity" (the quick
  // check) already means "in the prime-order group"; the full check's extra scalar
  // multiplication would only cost time on every received epk.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey->get(), nullptr));
  if (!check || EVP_PKEY_public_check_quick(check.get()) != 1)
    return key_problem(openssl_error("the EC point is not on P-256"));
  if (is_private && EVP_PKEY_pairwise_check(check.get()) != 1)
    return key_problem(openssl_error("\"d\" does not belong to the point (x, y)"));
  return pkey;
}

Result<PkeyPtr> parse_okp(const nlohmann::json& j, int nid, bool is_private) {
  auto x = member_bytes(j, "x", kOkpBytes);
  if (!x) return std::move(x).problem();
  if (!is_private) {
    PkeyPtr pkey(EVP_PKEY_new_raw_public_key(nid, nullptr, bytes(*x), x->size()));
    if (!pkey) return key_problem(openssl_error("OpenSSL refused the OKP public key"));
    return pkey;
  }
  auto d = member_bytes(j, "d", kOkpBytes);
  if (!d) return std::move(d).problem();
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(nid, nullptr, bytes(*d), d->size()));
  cleanse(*d);
  if (!pkey) return key_problem(openssl_error("OpenSSL refused the OKP private key"));
  unsigned char pub[kOkpBytes];
  std::size_t len = sizeof pub;
  if (EVP_PKEY_get_raw_public_key(pkey.get(), pub, &len) != 1 || len != kOkpBytes ||
      CRYPTO_memcmp(pub, x->data(), kOkpBytes) != 0)
    return key_problem("\"d\" does not belong to \"x\"");
  return pkey;
}

std::string bn_param(EVP_PKEY* pkey, const char* name, std::size_t pad_to = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return {};
  BnPtr bn(raw);
  const std::size_t size = pad_to != 0 ? pad_to : static_cast<std::size_t>(BN_num_bytes(bn.get()));
  Secret buf(size);
  if (BN_bn2binpad(bn.get(), buf.data(), static_cast<int>(size)) < 0) return {};
  return base64url_encode(buf.view());
}

// The encoded point 04||x||y of a P-256 key, in one export: cheaper than two BIGNUM
// exports, and this runs for every ephemeral key.
bool p256_point(EVP_PKEY* pkey, unsigned char (&point)[1 + 2 * kP256Bytes]) {
  std::size_t len = 0;
  return EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len) == 1 &&
         len == sizeof point && point[0] == 0x04;
}

std::string_view as_chars(const unsigned char* p, std::size_t n) { return {reinterpret_cast<const char*>(p), n}; }

}  // namespace

Result<Jwk> Jwk::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return key_problem("not a JSON object");
  const std::string kty = string_member(j, "kty");
  const std::string crv = string_member(j, "crv");
  const bool is_private = j.contains("d");
  Jwk key;
  Result<PkeyPtr> pkey = key_problem("unsupported key type kty=\"" + kty + "\"" + (crv.empty() ? "" : " crv=\"" + crv + "\""));
  if (kty == "RSA") {
    key.type_ = Type::rsa;
    pkey = parse_rsa(j, is_private);
  } else if (kty == "EC" && crv == "P-256") {
    key.type_ = Type::ec_p256;
    pkey = parse_p256(j, is_private);
  } else if (kty == "OKP" && crv == "X25519") {
    key.type_ = Type::x25519;
    pkey = parse_okp(j, EVP_PKEY_X25519, is_private);
  } else if (kty == "OKP" && crv == "Ed25519") {
    key.type_ = Type::ed25519;
    pkey = parse_okp(j, EVP_PKEY_ED25519, is_private);
  }
  if (!pkey) return std::move(pkey).problem();
  key.pkey_ = std::shared_ptr<EVP_PKEY>(pkey->release(), EVP_PKEY_free);
  key.is_private_ = is_private;
  key.kid_ = string_member(j, "kid");
  key.alg_ = string_member(j, "alg");
  key.use_ = string_member(j, "use");
  return key;
}

Result<Jwk> Jwk::parse(std::string_view json_text) {
  auto j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return key_problem("not valid JSON");
  auto key = from_json(j);
  // The parsed tree holds private members as plain strings: wipe them.
  if (j.is_object())
    for (const char* m : {"d", "p", "q", "dp", "dq", "qi"})
      if (auto it = j.find(m); it != j.end() && it->is_string()) cleanse(it->get_ref<std::string&>());
  return key;
}

Result<Jwk> Jwk::from_pkey(EVP_PKEY* raw, bool is_private) {
  std::shared_ptr<EVP_PKEY> pkey(raw, EVP_PKEY_free);
  Jwk key;
  if (EVP_PKEY_is_a(raw, "RSA")) {
    key.type_ = Type::rsa;
  } else if (EVP_PKEY_is_a(raw, "EC")) {
    char group[32] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(raw, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1 ||
        std::string_view(group) != "prime256v1")
      return key_problem("only the EC curve P-256 is supported");
    key.type_ = Type::ec_p256;
  } else if (EVP_PKEY_is_a(raw, "X25519")) {
    key.type_ = Type::x25519;
  } else if (EVP_PKEY_is_a(raw, "ED25519")) {
    key.type_ = Type::ed25519;
  } else {
    return key_problem("unsupported OpenSSL key type");
  }
  key.pkey_ = std::move(pkey);
  key.is_private_ = is_private;
  return key;
}

Result<Jwk> Jwk::generate(Type type, std::string kid, std::string alg, unsigned rsa_bits) {
  EVP_PKEY* raw = nullptr;
  switch (type) {
    case Type::rsa:
      if (rsa_bits < kMinRsaBits || rsa_bits > kMaxRsaBits) return key_problem("RSA size must be 2048..16384 bits");
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(rsa_bits));
      break;
    case Type::ec_p256: raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
    case Type::x25519: raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"); break;
    case Type::ed25519: raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
  }
  if (raw == nullptr) return crypto_problem(openssl_error("key generation failed"));
  auto key = from_pkey(raw, true);
  if (!key) return key;
  key->kid_ = std::move(kid);
  key->alg_ = std::move(alg);
  return key;
}

nlohmann::json Jwk::to_json(bool with_private) const {
  const bool priv = with_private && is_private_;
  nlohmann::json j = nlohmann::json::object();
  EVP_PKEY* k = pkey_.get();
  switch (type_) {
    case Type::rsa:
      j["kty"] = "RSA";
      j["n"] = bn_param(k, OSSL_PKEY_PARAM_RSA_N);
      j["e"] = bn_param(k, OSSL_PKEY_PARAM_RSA_E);
      if (priv) {
        j["d"] = bn_param(k, OSSL_PKEY_PARAM_RSA_D);
        j["p"] = bn_param(k, OSSL_PKEY_PARAM_RSA_FACTOR1);
        j["q"] = bn_param(k, OSSL_PKEY_PARAM_RSA_FACTOR2);
        j["dp"] = bn_param(k, OSSL_PKEY_PARAM_RSA_EXPONENT1);
        j["dq"] = bn_param(k, OSSL_PKEY_PARAM_RSA_EXPONENT2);
        j["qi"] = bn_param(k, OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
        // A key imported without CRT parameters has none to export.
        for (const char* m : {"p", "q", "dp", "dq", "qi"})
          if (j[m].get_ref<const std::string&>().empty()) j.erase(m);
      }
      break;
    case Type::ec_p256:
      j["kty"] = "EC";
      j["crv"] = "P-256";
    {
      unsigned char point[1 + 2 * kP256Bytes];
      if (p256_point(k, point)) {
        j["x"] = base64url_encode(as_chars(point + 1, kP256Bytes));
        j["y"] = base64url_encode(as_chars(point + 1 + kP256Bytes, kP256Bytes));
      } else {
        j["x"] = bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, kP256Bytes);
        j["y"] = bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, kP256Bytes);
      }
    }
      if (priv) j["d"] = bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, kP256Bytes);
      break;
    case Type::x25519:
    case Type::ed25519: {
      j["kty"] = "OKP";
      j["crv"] = type_ == Type::x25519 ? "X25519" : "Ed25519";
      unsigned char buf[kOkpBytes];
      std::size_t len = sizeof buf;
      if (EVP_PKEY_get_raw_public_key(k, buf, &len) == 1)
        j["x"] = base64url_encode({reinterpret_cast<char*>(buf), len});
      if (priv) {
        len = sizeof buf;
        if (EVP_PKEY_get_raw_private_key(k, buf, &len) == 1)
          j["d"] = base64url_encode({reinterpret_cast<char*>(buf), len});
        OPENSSL_cleanse(buf, sizeof buf);
      }
      break;
    }
  }
  if (!kid_.empty()) j["kid"] = kid_;
  if (!alg_.empty()) j["alg"] = alg_;
  if (!use_.empty()) j["use"] = use_;
  return j;
}

std::string Jwk::serialize(bool with_private) const {
  auto j = to_json(with_private);
  std::string text = j.dump(2) + "\n";
  for (const char* m : {"d", "p", "q", "dp", "dq", "qi"})
    if (auto it = j.find(m); it != j.end()) cleanse(it->get_ref<std::string&>());
  return text;
}

Jwk Jwk::public_key() const {
  Jwk pub = *this;
  if (!is_private_) return pub;
  auto rebuilt = from_json(to_json(false));
  return rebuilt ? std::move(rebuilt).value() : pub;  // from our own export: cannot fail
}

unsigned Jwk::bits() const { return static_cast<unsigned>(EVP_PKEY_get_bits(pkey_.get())); }

std::string Jwk::describe() const {
  switch (type_) {
    case Type::rsa: return "RSA-" + std::to_string(bits());
    case Type::ec_p256: return "EC P-256";
    case Type::x25519: return "OKP X25519";
    case Type::ed25519: return "OKP Ed25519";
  }
  return "unknown";
}

Result<std::string> public_jwk_text(EVP_PKEY* pkey, Jwk::Type type) {
  std::string out;
  JsonObjectText j(out);
  if (type == Jwk::Type::ec_p256) {
    unsigned char point[1 + 2 * kP256Bytes];
    if (!p256_point(pkey, point)) return key_problem(openssl_error("cannot export the P-256 public point"));
    j.string("kty", "EC").string("crv", "P-256");
    j.string("x", base64url_encode(as_chars(point + 1, kP256Bytes)));
    j.string("y", base64url_encode(as_chars(point + 1 + kP256Bytes, kP256Bytes)));
  } else if (type == Jwk::Type::x25519 || type == Jwk::Type::ed25519) {
    unsigned char x[kOkpBytes];
    std::size_t len = sizeof x;
    if (EVP_PKEY_get_raw_public_key(pkey, x, &len) != 1 || len != kOkpBytes)
      return key_problem(openssl_error("cannot export the OKP public key"));
    j.string("kty", "OKP").string("crv", type == Jwk::Type::x25519 ? "X25519" : "Ed25519");
    j.string("x", base64url_encode(as_chars(x, len)));
  } else {
    return key_problem("public_jwk_text is for EC and OKP keys");
  }
  j.close();
  return out;
}

}  // namespace xoev::crypto
