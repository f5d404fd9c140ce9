#include "gateway/crypto/envelope_seal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "gateway/crypto/base64url.h"
#include "gateway/crypto/json_text.h"
#include "gateway/crypto/jwe.h"
#include "gateway/crypto/jws.h"
#include "gateway/crypto/openssl_util.h"

namespace xoev::crypto {
namespace {

// Protected "xoev" claim → Kafka header it must equal.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kClaims = {{
    {"id", header::message_id},
    {"type", header::message_type},
    {"sender", header::sender},
    {"recipient", header::recipient},
    {"destination", header::destination},
}};
constexpr std::string_view kContentType = "application/xml";

Result<std::string> sha256(std::string_view data) {
  unsigned char md[32];
  unsigned int len = 0;
  static EVP_MD* sha256_md = EVP_MD_fetch(nullptr, "SHA256", nullptr);  // fetched once
  if (EVP_Digest(data.data(), data.size(), md, &len, sha256_md, nullptr) != 1)
    return crypto_problem(openssl_error("SHA-256 failed"));
  return std::string(reinterpret_cast<char*>(md), len);
}

// {"headers":{every signed header: value|null},"sha256":b64url(SHA-256(value))}
Result<std::string> signed_claims(const Envelope& env, std::string_view value_digest) {
  std::string text;
  text.reserve(1024);
  JsonObjectText claims(text);
  claims.open("headers");
  for (auto name : header::signed_headers) {
    const std::string* v = env.find(name);
    if (v) claims.string(name, *v);
    else claims.null(name);
  }
  claims.close().string("sha256", base64url_encode(value_digest)).close();
  if (!claims.valid()) return crypto_problem("seal: a signed header is not valid UTF-8");
  return text;
}

std::size_t count_headers(const Envelope& env, std::string_view name) {
  std::size_t n = 0;
  for (const auto& [k, v] : env.headers) n += k == name ? 1 : 0;
  return n;
}

bool equal_ct(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status check_signature(const Envelope& env, const KeyRing& trusted_gateways) {
  const std::string* signature = env.find(header::signature);
  if (signature == nullptr) return crypto_problem("unsigned: the record has no xoev-signature header");
  auto jws = jws_verify(*signature, trusted_gateways, 64u << 10);
  if (!jws) return std::move(jws).problem();
  auto typ = jws->protected_header.find("typ");
  if (typ == jws->protected_header.end() || *typ != kEnvelopeSignatureType)
    return crypto_problem("signature is not an envelope signature (typ must be \"" + std::string(kEnvelopeSignatureType) + "\")");
  auto claims = nlohmann::json::parse(jws->payload, nullptr, /*allow_exceptions=*/false);
  if (claims.is_discarded() || !claims.is_object() || !claims.contains("headers") || !claims["headers"].is_object() ||
      !claims.contains("sha256") || !claims["sha256"].is_string())
    return crypto_problem("signature does not cover this record: malformed signed claims");
  auto digest = sha256(env.value);
  if (!digest) return std::move(digest).problem();
  if (!equal_ct(claims["sha256"].get_ref<const std::string&>(), base64url_encode(*digest)))
    return crypto_problem("signature does not cover this record: the value was altered");
  const auto& signed_headers = claims["headers"];
  for (auto name : header::signed_headers) {
    const std::string key(name);
    // A second header of the same name could shadow the signed one for some reader.
    if (count_headers(env, name) > 1) return crypto_problem("signature does not cover this record: header " + key + " appears twice");
    auto it = signed_headers.find(key);
    const std::string* actual = env.find(name);
    if (it == signed_headers.end()) return crypto_problem("signature does not cover this record: header " + key + " is not signed");
    const bool match = it->is_null() ? actual == nullptr
                                     : it->is_string() && actual != nullptr && *actual == it->get_ref<const std::string&>();
    if (!match) return crypto_problem("signature does not cover this record: header " + key + " was altered");
  }
  return ok_status();
}

}  // namespace

namespace envelope_parts {

Status seal_with(Envelope& env, const KeyRing& recipient_public_keys, const Jwk& gateway_signing_key,
                 std::string_view extra_xoev_members) {
  const Jwk* recipient = recipient_public_keys.first();
  if (recipient == nullptr) return crypto_problem("seal: the destination has no encryption key");
  // {"cty":"application/xml","xoev":{"id":…,…}}: written as text, this runs per message.
  std::string extra;
  JsonObjectText header(extra);
  header.string("cty", kContentType).open("xoev");
  for (const auto& [claim, name] : kClaims) {
    const std::string* v = env.find(name);
    if (v == nullptr) return Problem::make(ProblemKind::internal, "seal: header " + std::string(name) + " is missing");
    header.string(claim, *v);
  }
  if (!extra_xoev_members.empty()) header.members(extra_xoev_members);
  header.close().close();
  if (!header.valid()) return crypto_problem("seal: a routing header is not valid UTF-8");
  auto jwe = jwe_encrypt_members(env.value, *recipient, members_of(extra));
  if (!jwe) return std::move(jwe).problem();
  auto digest = sha256(*jwe);
  if (!digest) return std::move(digest).problem();
  auto claims = signed_claims(env, *digest);
  if (!claims) return std::move(claims).problem();
  static const std::string typ = "\"typ\":\"" + std::string(kEnvelopeSignatureType) + "\"";
  auto jws = jws_sign_members(*claims, gateway_signing_key, typ);
  if (!jws) return std::move(jws).problem();
  // Only now touch the record, so a failed seal leaves it as it was.
  env.value = std::move(jwe).value();
  env.headers.erase(std::remove_if(env.headers.begin(), env.headers.end(),
                                   [](const auto& h) { return h.first == header::signature; }),
                    env.headers.end());
  env.headers.emplace_back(std::string(header::signature), std::move(jws).value());
  return ok_status();
}

Result<JweContents> open_verified(const Envelope& env, const KeyRing& trusted_gateways, const KeyRing& decryption_keys) {
  if (auto s = check_signature(env, trusted_gateways); !s) return std::move(s).problem();
  auto jwe = jwe_decrypt(env.value, decryption_keys);
  if (!jwe) return std::move(jwe).problem();
  const auto& h = jwe->protected_header;
  auto cty = h.find("cty");
  if (cty == h.end() || *cty != kContentType) {
    cleanse(jwe->plaintext);
    return crypto_problem("protected header cty is not \"application/xml\"");
  }
  auto xoev = h.find("xoev");
  for (const auto& [claim, name] : kClaims) {
    const std::string* actual = env.find(name);
    const nlohmann::json* expected = nullptr;
    if (xoev != h.end() && xoev->is_object()) {
      auto it = xoev->find(std::string(claim));
      if (it != xoev->end() && it->is_string()) expected = &*it;
    }
    if (expected == nullptr || actual == nullptr || expected->get_ref<const std::string&>() != *actual) {
      cleanse(jwe->plaintext);
      return crypto_problem("protected header xoev." + std::string(claim) + " does not match header " + std::string(name));
    }
  }
  return std::move(jwe).value();
}

}  // namespace envelope_parts

Status seal(Envelope& env, const KeyRing& recipient_public_keys, const Jwk& gateway_signing_key) {
  return envelope_parts::seal_with(env, recipient_public_keys, gateway_signing_key, {});
}

Result<std::string> open(const Envelope& env, const KeyRing& trusted_gateways, const KeyRing& decryption_keys) {
  auto jwe = envelope_parts::open_verified(env, trusted_gateways, decryption_keys);
  if (!jwe) return std::move(jwe).problem();
  const auto& xoev = jwe->protected_header.at("xoev");  // an object: open_verified checked its claims
  if (xoev.contains("chunk")) {
    cleanse(jwe->plaintext);
    return crypto_problem("protected header xoev.chunk: a chunk record is not a whole message");
  }
  return std::move(jwe->plaintext);
}

}  // namespace xoev::crypto
