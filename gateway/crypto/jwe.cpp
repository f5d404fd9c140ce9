#include "gateway/crypto/jwe.h"

#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <array>

#include "gateway/crypto/base64url.h"
#include "gateway/crypto/concat_kdf.h"
#include "gateway/crypto/content_cipher.h"
#include "gateway/crypto/json_text.h"
#include "gateway/crypto/key_agreement.h"
#include "gateway/crypto/key_wrap.h"
#include "gateway/crypto/openssl_util.h"

namespace xoev::crypto {
namespace {

constexpr std::size_t kWrappedCekBytes = kGcmKeyBytes + 8;

Problem jwe_problem(std::string detail) { return crypto_problem("JWE: " + std::move(detail)); }

bool is_ecdh_key(const Jwk& key) { return key.type() == Jwk::Type::ec_p256 || key.type() == Jwk::Type::x25519; }

Status set_oaep_sha256(EVP_PKEY_CTX* ctx) {
  if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) != 1 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) != 1)
    return jwe_problem(openssl_error("cannot set up RSA-OAEP-256"));
  return ok_status();
}

Result<std::string> rsa_oaep_encrypt(const Jwk& recipient, const Secret& cek) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, recipient.pkey(), nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1) return jwe_problem(openssl_error("RSA encrypt init failed"));
  if (auto s = set_oaep_sha256(ctx.get()); !s) return std::move(s).problem();
  std::size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, cek.data(), cek.size()) != 1)
    return jwe_problem(openssl_error("RSA encrypt failed"));
  std::string out(len, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, cek.data(), cek.size()) != 1)
    return jwe_problem(openssl_error("RSA encrypt failed"));
  out.resize(len);
  return out;
}

Result<Secret> rsa_oaep_decrypt(const Jwk& key, std::string_view encrypted_key) {
  if (encrypted_key.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key.pkey())))
    return jwe_problem("encrypted key has " + std::to_string(encrypted_key.size()) + " bytes, the " + key.describe() +
                       " key needs " + std::to_string(EVP_PKEY_get_size(key.pkey())));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.pkey(), nullptr));
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1) return jwe_problem(openssl_error("RSA decrypt init failed"));
  if (auto s = set_oaep_sha256(ctx.get()); !s) return std::move(s).problem();
  Secret cek(encrypted_key.size());
  std::size_t len = cek.size();
  if (EVP_PKEY_decrypt(ctx.get(), cek.data(), &len, bytes(encrypted_key), encrypted_key.size()) != 1 ||
      len != kGcmKeyBytes) {
    openssl_error("");
    return jwe_problem("encrypted key could not be decrypted with RSA-OAEP-256 (altered, or wrong recipient key kid=" +
                       key.kid() + ")");
  }
  cek.resize(len);
  return cek;
}

// The decoded "apu"/"apv" header values (PartyUInfo/PartyVInfo of the Concat KDF);
// empty when absent.
Result<std::array<std::string, 2>> party_info(const nlohmann::json& header) {
  std::array<std::string, 2> party;
  std::array<const char*, 2> names = {"apu", "apv"};
  for (std::size_t i = 0; i < 2; ++i) {
    auto it = header.find(names[i]);
    if (it == header.end()) continue;
    std::optional<std::string> decoded;
    if (it->is_string()) decoded = base64url_decode(it->get_ref<const std::string&>());
    if (!decoded) return jwe_problem(std::string("header \"") + names[i] + "\" is not base64url");
    party[i] = std::move(*decoded);
  }
  return party;
}

// Writes "epk" into the header and returns the wrapped content key.
Result<std::string> ecdh_wrap(const Jwk& recipient, const Secret& cek, const std::array<std::string, 2>& party,
                              JsonObjectText& header) {
  auto ephemeral = generate_ephemeral_key(recipient);
  if (!ephemeral) return jwe_problem(ephemeral.problem().detail);
  header.json("epk", ephemeral->public_jwk);
  auto z = ecdh_shared_secret(ephemeral->key.get(), recipient.pkey());
  if (!z) return std::move(z).problem();
  auto kek = concat_kdf(*z, kAlgEcdhEsA256kw, party[0], party[1], kGcmKeyBytes);
  if (!kek) return std::move(kek).problem();
  return aes_key_wrap(*kek, cek);
}

Result<Secret> ecdh_unwrap(const Jwk& key, const nlohmann::json& header, std::string_view encrypted_key) {
  if (encrypted_key.size() != kWrappedCekBytes)
    return jwe_problem("encrypted key has " + std::to_string(encrypted_key.size()) + " bytes, A256KW of a 256-bit key has " +
                       std::to_string(kWrappedCekBytes));
  auto it = header.find("epk");
  if (it == header.end() || !it->is_object()) return jwe_problem("header has no \"epk\" object");
  if (it->contains("d")) return jwe_problem("\"epk\" must be a public key");
  auto epk = Jwk::from_json(*it);
  if (!epk) return jwe_problem("\"epk\" is not a valid key: " + epk.problem().detail);
  if (epk->type() != key.type())
    return jwe_problem("\"epk\" is " + epk->describe() + " but key kid=" + key.kid() + " is " + key.describe());
  auto z = ecdh_shared_secret(key.pkey(), epk->pkey());
  if (!z) return std::move(z).problem();
  auto party = party_info(header);
  if (!party) return std::move(party).problem();
  auto kek = concat_kdf(*z, kAlgEcdhEsA256kw, (*party)[0], (*party)[1], kGcmKeyBytes);
  if (!kek) return std::move(kek).problem();
  auto cek = aes_key_unwrap(*kek, encrypted_key);
  if (!cek) return jwe_problem(cek.problem().detail + " kid=" + key.kid());
  if (cek->size() != kGcmKeyBytes) return jwe_problem("unwrapped content key is not 256 bits");
  return cek;
}

// The part names, for error messages, in compact order.
constexpr std::array<std::string_view, 5> kPartNames = {"protected header", "encrypted key", "iv", "ciphertext", "tag"};

// The protected header is written as text (alg, enc, kid, epk, then the caller's
// members) and its base64url form is both the first part and the GCM AAD.
Result<std::string> encrypt_compact(std::string_view plaintext, const Jwk& recipient, std::string_view extra_members,
                                    const std::array<std::string, 2>& party) {
  auto alg = jwe_alg_for(recipient);
  if (!alg) return std::move(alg).problem();
  if (recipient.kid().empty()) return jwe_problem("recipient key has no \"kid\"");

  // Content key and iv from one draw of the CSPRNG.
  unsigned char random[kGcmKeyBytes + kGcmIvBytes];
  if (RAND_bytes(random, sizeof random) != 1) return jwe_problem(openssl_error("random generator failed"));
  const Secret cek(random, kGcmKeyBytes);
  const std::string iv(reinterpret_cast<char*>(random) + kGcmKeyBytes, kGcmIvBytes);
  OPENSSL_cleanse(random, sizeof random);

  std::string header_text;
  header_text.reserve(384 + extra_members.size());
  JsonObjectText header(header_text);
  header.string("alg", *alg).string("enc", kEncA256gcm).string("kid", recipient.kid());
  auto encrypted_key = *alg == kAlgRsaOaep256 ? rsa_oaep_encrypt(recipient, cek) : ecdh_wrap(recipient, cek, party, header);
  if (!encrypted_key) return std::move(encrypted_key).problem();
  header.members(extra_members).close();
  if (!header.valid()) return jwe_problem("protected header is not valid UTF-8");

  std::string out;
  out.reserve(base64url_length(header_text.size()) + base64url_length(encrypted_key->size()) +
              base64url_length(iv.size()) + base64url_length(plaintext.size()) + base64url_length(kGcmTagBytes) + 4);
  base64url_append(out, header_text);
  const std::size_t header_b64_size = out.size();
  auto sealed = aes256gcm_encrypt(cek, iv, std::string_view(out.data(), header_b64_size), plaintext);
  if (!sealed) return std::move(sealed).problem();
  out += '.';
  base64url_append(out, *encrypted_key);
  out += '.';
  base64url_append(out, iv);
  out += '.';
  base64url_append(out, sealed->ciphertext);
  out += '.';
  base64url_append(out, sealed->tag);
  return out;
}

}  // namespace

Result<std::string> jwe_alg_for(const Jwk& key) {
  std::string alg;
  if (key.type() == Jwk::Type::rsa) alg = kAlgRsaOaep256;
  else if (is_ecdh_key(key)) alg = kAlgEcdhEsA256kw;
  else return jwe_problem("key kid=" + key.kid() + " (" + key.describe() + ") cannot be used for encryption");
  if (!key.alg().empty() && key.alg() != alg)
    return jwe_problem("key kid=" + key.kid() + " has alg \"" + key.alg() + "\"; allowed for " + key.describe() + ": " + alg);
  return alg;
}

Result<std::string> jwe_encrypt(std::string_view plaintext, const Jwk& recipient, const nlohmann::json& extra_protected) {
  if (!extra_protected.is_null() && !extra_protected.is_object()) return jwe_problem("extra header must be a JSON object");
  std::string members;
  std::array<std::string, 2> party;
  if (extra_protected.is_object() && !extra_protected.empty()) {
    for (const char* reserved : {"alg", "enc", "kid", "epk", "zip", "crit"})
      if (extra_protected.contains(reserved)) return jwe_problem(std::string("extra header may not set \"") + reserved + "\"");
    auto decoded = party_info(extra_protected);
    if (!decoded) return std::move(decoded).problem();
    party = std::move(decoded).value();
    // Replace, not throw, on invalid UTF-8: the strings came from the caller's code.
    members = extra_protected.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return encrypt_compact(plaintext, recipient, members_of(members), party);
}

Result<std::string> jwe_encrypt_members(std::string_view plaintext, const Jwk& recipient, std::string_view extra_members) {
  return encrypt_compact(plaintext, recipient, extra_members, {});
}

Result<JweContents> jwe_decrypt(std::string_view compact, const KeyRing& keys, const JweLimits& limits) {
  if (compact.size() > limits.max_compact_bytes)
    return jwe_problem("input of " + std::to_string(compact.size()) + " bytes exceeds the limit of " +
                       std::to_string(limits.max_compact_bytes));
  std::array<std::string_view, 5> text;
  std::size_t count = 0, start = 0;
  while (true) {
    const std::size_t dot = compact.find('.', start);
    if (count < text.size()) text[count] = compact.substr(start, dot == std::string_view::npos ? dot : dot - start);
    ++count;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (count != 5)
    return jwe_problem("compact serialization needs 5 parts separated by '.', found " + std::to_string(count) +
                       " (truncated or not a JWE)");
  if (text[0].size() > limits.max_header_bytes / 3 * 4 + 4)
    return jwe_problem("protected header exceeds the limit of " + std::to_string(limits.max_header_bytes) + " bytes");

  std::array<std::string, 5> part;
  for (std::size_t i = 0; i < part.size(); ++i) {
    if (i == 3) continue;  // the ciphertext is decoded last, after the cheap checks
    auto decoded = base64url_decode(text[i]);
    if (!decoded) return jwe_problem(std::string(kPartNames[i]) + " is not valid base64url");
    part[i] = std::move(*decoded);
  }
  auto header = nlohmann::json::parse(part[0], nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) return jwe_problem("protected header is not a JSON object");

  auto member = [&](const char* name) -> std::string {
    auto it = header.find(name);
    return it != header.end() && it->is_string() ? it->get<std::string>() : std::string{};
  };
  const std::string alg = member("alg"), enc = member("enc"), kid = member("kid");
  if (alg != kAlgRsaOaep256 && alg != kAlgEcdhEsA256kw)
    return jwe_problem("alg \"" + alg + "\" is not allowed (allowed: RSA-OAEP-256, ECDH-ES+A256KW)");
  if (enc != kEncA256gcm) return jwe_problem("enc \"" + enc + "\" is not allowed (allowed: A256GCM)");
  if (header.contains("zip")) return jwe_problem("compressed JWE (\"zip\") is not accepted");
  if (header.contains("crit")) return jwe_problem("unsupported critical header parameter(s): " + header["crit"].dump());

  const Jwk* key = nullptr;
  if (!kid.empty()) key = keys.find(kid);
  else if (keys.size() == 1) key = keys.first();
  if (key == nullptr)
    return jwe_problem(kid.empty() ? "header has no \"kid\" and there is more than one key"
                                   : "no decryption key for kid=" + kid + " (have: " + keys.kids() + ")");
  if (!key->is_private()) return jwe_problem("key kid=" + key->kid() + " is a public key; decryption needs the private key");
  auto key_alg = jwe_alg_for(*key);
  if (!key_alg) return std::move(key_alg).problem();
  if (*key_alg != alg) return jwe_problem("alg " + alg + " does not fit key kid=" + key->kid() + " (" + key->describe() + ")");

  if (part[2].size() != kGcmIvBytes)
    return jwe_problem("iv has " + std::to_string(part[2].size()) + " bytes, A256GCM needs 12");
  if (part[4].size() != kGcmTagBytes)
    return jwe_problem("tag has " + std::to_string(part[4].size()) + " bytes, A256GCM needs 16");
  auto ciphertext = base64url_decode(text[3]);
  if (!ciphertext) return jwe_problem("ciphertext is not valid base64url");

  auto cek = alg == kAlgRsaOaep256 ? rsa_oaep_decrypt(*key, part[1]) : ecdh_unwrap(*key, header, part[1]);
  if (!cek) return std::move(cek).problem();
  auto plain = aes256gcm_decrypt(*cek, part[2], text[0], *ciphertext, part[4]);
  if (!plain) return jwe_problem(plain.problem().detail);
  return JweContents{std::move(plain).value(), std::move(header)};
}

}  // namespace xoev::crypto
