#include "gateway/crypto/jws.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include <array>

#include "gateway/crypto/base64url.h"
#include "gateway/crypto/json_text.h"
#include "gateway/crypto/openssl_util.h"

namespace xoev::crypto {
namespace {

constexpr std::size_t kSignatureBytes = 64;  // ES256 r||s and Ed25519 both
constexpr std::size_t kMaxHeaderBytes = 16u << 10;

Problem jws_problem(std::string detail) { return crypto_problem("JWS: " + std::move(detail)); }

using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;

// DER ECDSA-Sig-Value → fixed 64-byte r||s.
Result<std::string> der_to_raw(const std::string& der) {
  const auto* p = bytes(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return jws_problem(openssl_error("cannot decode the ECDSA signature"));
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(kSignatureBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, 32) != 32 || BN_bn2binpad(s, out + 32, 32) != 32)
    return jws_problem("ECDSA signature does not fit 64 bytes");
  return raw;
}

// 64-byte r||s → DER, as EVP_DigestVerify expects.
Result<std::string> raw_to_der(std::string_view raw) {
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes(raw), 32, nullptr);
  BIGNUM* s = BN_bin2bn(bytes(raw) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return jws_problem(openssl_error("cannot encode the ECDSA signature"));
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return jws_problem(openssl_error("cannot encode the ECDSA signature"));
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

// ES256 hashes with SHA-256; Ed25519 takes the message itself (no digest). Fetched
// once, so signing does not look the digest up by name every time.
const EVP_MD* digest_for(const Jwk& key) {
  static EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return key.type() == Jwk::Type::ec_p256 ? sha256 : nullptr;
}

}  // namespace

Result<std::string> jws_alg_for(const Jwk& key) {
  std::string alg;
  if (key.type() == Jwk::Type::ec_p256) alg = kAlgEs256;
  else if (key.type() == Jwk::Type::ed25519) alg = kAlgEdDsa;
  else return jws_problem("key kid=" + key.kid() + " (" + key.describe() + ") cannot sign (allowed: EC P-256, OKP Ed25519)");
  if (!key.alg().empty() && key.alg() != alg)
    return jws_problem("key kid=" + key.kid() + " has alg \"" + key.alg() + "\"; allowed for " + key.describe() + ": " + alg);
  return alg;
}

Result<std::string> jws_signature(std::string_view signing_input, const Jwk& private_key) {
  auto alg = jws_alg_for(private_key);
  if (!alg) return std::move(alg).problem();
  if (!private_key.is_private()) return jws_problem("signing needs a private key (kid=" + private_key.kid() + ")");
  if (private_key.type() == Jwk::Type::ec_p256) {
    // Hash, then sign the digest: the same two steps as EVP_DigestSign, without setting
    // up a digest context inside the signature context for every message.
    unsigned char digest[32];
    unsigned int digest_len = 0;
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, private_key.pkey(), nullptr));
    unsigned char der[80];
    std::size_t len = sizeof der;
    if (EVP_Digest(signing_input.data(), signing_input.size(), digest, &digest_len, digest_for(private_key), nullptr) != 1 ||
        !ctx || EVP_PKEY_sign_init(ctx.get()) != 1 || EVP_PKEY_sign(ctx.get(), der, &len, digest, digest_len) != 1)
      return jws_problem(openssl_error("signing failed"));
    return der_to_raw(std::string(reinterpret_cast<char*>(der), len));
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, private_key.pkey()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, bytes(signing_input), signing_input.size()) != 1)
    return jws_problem(openssl_error("signing failed"));
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes(signing_input),
                     signing_input.size()) != 1)
    return jws_problem(openssl_error("signing failed"));
  sig.resize(len);
  return sig;
}

Status jws_check_signature(std::string_view signing_input, std::string_view signature, const Jwk& key) {
  if (signature.size() != kSignatureBytes)
    return jws_problem("signature has " + std::to_string(signature.size()) + " bytes, needs 64");
  std::string to_verify(signature);
  if (key.type() == Jwk::Type::ec_p256) {
    auto der = raw_to_der(signature);
    if (!der) return std::move(der).problem();
    to_verify = std::move(der).value();
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, digest_for(key), nullptr, key.pkey()) != 1)
    return jws_problem(openssl_error("verification set-up failed"));
  if (EVP_DigestVerify(ctx.get(), bytes(to_verify), to_verify.size(), bytes(signing_input), signing_input.size()) != 1) {
    openssl_error("");
    return jws_problem("signature does not match (kid=" + key.kid() + ")");
  }
  return ok_status();
}

Result<std::string> jws_sign_members(std::string_view payload, const Jwk& private_key, std::string_view extra_members) {
  auto alg = jws_alg_for(private_key);
  if (!alg) return std::move(alg).problem();
  if (!private_key.is_private()) return jws_problem("signing needs a private key (kid=" + private_key.kid() + ")");
  if (private_key.kid().empty()) return jws_problem("signing key has no \"kid\"");
  std::string header_text;
  JsonObjectText header(header_text);
  header.string("alg", *alg).string("kid", private_key.kid()).members(extra_members).close();
  if (!header.valid()) return jws_problem("protected header is not valid UTF-8");
  std::string input;
  input.reserve(base64url_length(header_text.size()) + base64url_length(payload.size()) + base64url_length(kSignatureBytes) + 2);
  base64url_append(input, header_text);
  input += '.';
  base64url_append(input, payload);
  auto sig = jws_signature(input, private_key);
  if (!sig) return std::move(sig).problem();
  input += '.';
  base64url_append(input, *sig);
  return input;
}

Result<std::string> jws_sign(std::string_view payload, const Jwk& private_key, const nlohmann::json& extra_header) {
  std::string members;
  if (extra_header.is_object() && !extra_header.empty()) {
    for (const char* reserved : {"alg", "kid"})
      if (extra_header.contains(reserved)) return jws_problem(std::string("extra header may not set \"") + reserved + "\"");
    members = extra_header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return jws_sign_members(payload, private_key, members_of(members));
}

Result<JwsContents> jws_verify(std::string_view compact, const KeyRing& trusted, std::size_t max_compact_bytes) {
  if (compact.size() > max_compact_bytes)
    return jws_problem("input of " + std::to_string(compact.size()) + " bytes exceeds the limit");
  const std::size_t dot1 = compact.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : compact.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || compact.find('.', dot2 + 1) != std::string_view::npos)
    return jws_problem("compact serialization needs 3 parts separated by '.' (truncated or not a JWS)");
  const std::string_view header_b64 = compact.substr(0, dot1);
  const std::string_view payload_b64 = compact.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signed_part = compact.substr(0, dot2);
  if (header_b64.size() > kMaxHeaderBytes) return jws_problem("protected header is too large");

  auto header_text = base64url_decode(header_b64);
  if (!header_text) return jws_problem("protected header is not valid base64url");
  auto header = nlohmann::json::parse(*header_text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) return jws_problem("protected header is not a JSON object");
  const auto alg_it = header.find("alg");
  const std::string alg = alg_it != header.end() && alg_it->is_string() ? alg_it->get<std::string>() : "";
  if (alg != kAlgEs256 && alg != kAlgEdDsa) return jws_problem("alg \"" + alg + "\" is not allowed (allowed: ES256, EdDSA)");
  if (header.contains("crit")) return jws_problem("unsupported critical header parameter(s): " + header["crit"].dump());
  const auto kid_it = header.find("kid");
  if (kid_it == header.end() || !kid_it->is_string()) return jws_problem("header has no \"kid\"");
  const std::string kid = kid_it->get<std::string>();
  const Jwk* key = trusted.find(kid);
  if (key == nullptr) return jws_problem("unknown signing key kid=" + kid + " (trusted: " + trusted.kids() + ")");
  auto key_alg = jws_alg_for(*key);
  if (!key_alg) return std::move(key_alg).problem();
  if (*key_alg != alg) return jws_problem("alg " + alg + " does not fit key kid=" + kid + " (" + key->describe() + ")");

  auto signature = base64url_decode(compact.substr(dot2 + 1));
  if (!signature) return jws_problem("signature is not valid base64url");
  if (signature->size() != kSignatureBytes)
    return jws_problem("signature has " + std::to_string(signature->size()) + " bytes, " + alg + " needs 64");
  auto payload = base64url_decode(payload_b64);
  if (!payload) return jws_problem("payload is not valid base64url");

  if (auto ok = jws_check_signature(signed_part, *signature, *key); !ok) return std::move(ok).problem();
  return JwsContents{std::move(*payload), std::move(header), kid};
}

}  // namespace xoev::crypto
