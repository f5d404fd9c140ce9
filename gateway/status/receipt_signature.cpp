#include "gateway/status/receipt_signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "gateway/crypto/base64url.h"
#include "gateway/crypto/jws.h"
#include "gateway/crypto/key_file.h"
#include "gateway/crypto/openssl_util.h"

namespace xoev {
namespace {

// Receipts are small JSON objects; anything larger is not one of ours.
constexpr std::size_t kMaxSignatureBytes = 8u << 10;

Result<std::string> sha256_b64url(std::string_view data) {
  unsigned char md[32];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
    return crypto::crypto_problem("receipt signature: SHA-256 failed");
  return crypto::base64url_encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

bool equal_ct(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Status sign_receipt(Envelope& env, const crypto::Jwk& signing_key) {
  auto digest = sha256_b64url(env.value);
  if (!digest) return std::move(digest).problem();
  const nlohmann::json claims = {{"key", env.key}, {"sha256", *digest}};
  auto jws = crypto::jws_sign(claims.dump(), signing_key, {{"typ", std::string(kReceiptSignatureType)}});
  if (!jws) return std::move(jws).problem();
  env.headers.erase(std::remove_if(env.headers.begin(), env.headers.end(),
                                   [](const auto& h) { return h.first == header::signature; }),
                    env.headers.end());
  env.headers.emplace_back(std::string(header::signature), std::move(jws).value());
  return ok_status();
}

Result<Receipt> verify_receipt(const Envelope& env, const crypto::KeyRing& trusted) {
  std::size_t signatures = 0;
  for (const auto& h : env.headers) signatures += h.first == header::signature ? 1 : 0;
  if (signatures == 0) return crypto::crypto_problem("unsigned: the receipt has no xoev-signature header");
  if (signatures > 1) return crypto::crypto_problem("the receipt has more than one xoev-signature header");
  auto jws = crypto::jws_verify(*env.find(header::signature), trusted, kMaxSignatureBytes);
  if (!jws) return std::move(jws).problem();
  const auto typ = jws->protected_header.find("typ");
  if (typ == jws->protected_header.end() || *typ != kReceiptSignatureType)
    return crypto::crypto_problem("signature is not a receipt signature (typ must be \"" +
                                  std::string(kReceiptSignatureType) + "\")");
  const auto claims = nlohmann::json::parse(jws->payload, nullptr, /*allow_exceptions=*/false);
  if (claims.is_discarded() || !claims.is_object() || !claims.contains("key") || !claims["key"].is_string() ||
      !claims.contains("sha256") || !claims["sha256"].is_string())
    return crypto::crypto_problem("receipt signature: malformed signed claims");
  auto digest = sha256_b64url(env.value);
  if (!digest) return std::move(digest).problem();
  if (!equal_ct(claims["sha256"].get_ref<const std::string&>(), *digest))
    return crypto::crypto_problem("receipt signature does not cover this record: the value was altered");
  if (!equal_ct(claims["key"].get_ref<const std::string&>(), env.key))
    return crypto::crypto_problem("receipt signature does not cover this record: the key was altered");
  auto receipt = Receipt::from_json(env.value);
  if (!receipt) return std::move(receipt).problem();
  // A trusted signer's receipt speaks about the message it is keyed by, no other.
  if (receipt->message_id != env.key)
    return crypto::crypto_problem("receipt messageId does not match the record key");
  return receipt;
}

Result<crypto::KeyRing> load_receipt_signers(const KeysSection& keys) {
  std::vector<fs::path> files;
  for (const auto* list : {&keys.trusted_gateways, &keys.trusted_deliverers})
    for (const auto& f : *list)
      if (std::find(files.begin(), files.end(), f.lexically_normal()) == files.end()) files.push_back(f.lexically_normal());
  return crypto::load_key_ring(files);
}

}  // namespace xoev
