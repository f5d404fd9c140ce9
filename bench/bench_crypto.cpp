// JWE/JWS costs per algorithm and size, the full envelope seal, and the raw OpenSSL
// primitives a seal is made of, so the README can state Σ primitives ÷ seal (each
// primitive alone, and all of them chained in one loop).
//   seal (ECDH-ES P-256 + A256GCM + ES256, 4 KB) =
//     P-256 keygen + ECDH derive + Concat KDF + AES key wrap + AES-256-GCM(4 KB)
//     + SHA-256(JWE) + ECDSA P-256 sign + JSON/base64url
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <map>
#include <string>

#include "gateway/crypto/base64url.h"
#include "gateway/crypto/envelope_seal.h"
#include "gateway/crypto/jwe.h"
#include "gateway/crypto/jws.h"
#include "gateway/crypto/openssl_util.h"

namespace {

using namespace xoev::crypto;

enum KeyIndex { kRsa3072, kRsa4096, kP256, kX25519 };
const char* const kKeyNames[] = {"RSA-OAEP-256/3072", "RSA-OAEP-256/4096", "ECDH-ES+A256KW/P-256", "ECDH-ES+A256KW/X25519"};

const Jwk& key(int index) {
  static std::map<int, Jwk> keys;
  auto it = keys.find(index);
  if (it != keys.end()) return it->second;
  Jwk::Type type = index <= kRsa4096 ? Jwk::Type::rsa : index == kP256 ? Jwk::Type::ec_p256 : Jwk::Type::x25519;
  auto k = Jwk::generate(type, kKeyNames[index], "", index == kRsa3072 ? 3072 : 4096).value();
  return keys.emplace(index, std::move(k)).first->second;
}

const Jwk& signing_key() {
  static Jwk k = Jwk::generate(Jwk::Type::ec_p256, "gw", "ES256").value();
  return k;
}

std::string payload(std::size_t n) {
  std::string s(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), static_cast<int>(n));
  return s;
}

void BM_JweEncrypt(benchmark::State& state) {
  const Jwk pub = key(static_cast<int>(state.range(0))).public_key();
  const std::string plain = payload(static_cast<std::size_t>(state.range(1)));
  for (auto _ : state) benchmark::DoNotOptimize(jwe_encrypt(plain, pub));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(1));
  state.SetLabel(kKeyNames[state.range(0)]);
}

void BM_JweDecrypt(benchmark::State& state) {
  const Jwk& priv = key(static_cast<int>(state.range(0)));
  KeyRing ring;
  (void)ring.add(priv);
  const std::string compact = jwe_encrypt(payload(static_cast<std::size_t>(state.range(1))), priv.public_key()).value();
  for (auto _ : state) benchmark::DoNotOptimize(jwe_decrypt(compact, ring));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(1));
  state.SetLabel(kKeyNames[state.range(0)]);
}

void jwe_args(benchmark::internal::Benchmark* b) {
  for (int k : {kRsa3072, kRsa4096, kP256, kX25519})
    for (int size : {4 << 10, 1 << 20}) b->Args({k, size});
}
BENCHMARK(BM_JweEncrypt)->Apply(jwe_args)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_JweDecrypt)->Apply(jwe_args)->Unit(benchmark::kMicrosecond);

xoev::Envelope envelope(std::string value) {
  xoev::Envelope env;
  env.key = "2b4c7f0e-7a43-4f0e-9d6b-1f4c1a7e0c11";
  env.value = std::move(value);
  for (auto name : xoev::header::signed_headers) env.set(name, "value-of-" + std::string(name));
  return env;
}

void BM_Seal_P256_ES256_4K(benchmark::State& state) {
  KeyRing ring;
  (void)ring.add(key(kP256).public_key());
  const std::string plain = payload(4 << 10);
  for (auto _ : state) {
    auto env = envelope(plain);
    benchmark::DoNotOptimize(seal(env, ring, signing_key()));
  }
}
BENCHMARK(BM_Seal_P256_ES256_4K)->Unit(benchmark::kMicrosecond);

void BM_Open_P256_ES256_4K(benchmark::State& state) {
  KeyRing pub, priv, trusted;
  (void)pub.add(key(kP256).public_key());
  (void)priv.add(key(kP256));
  (void)trusted.add(signing_key().public_key());
  auto env = envelope(payload(4 << 10));
  (void)seal(env, pub, signing_key());
  for (auto _ : state) benchmark::DoNotOptimize(open(env, trusted, priv));
}
BENCHMARK(BM_Open_P256_ES256_4K)->Unit(benchmark::kMicrosecond);

void BM_Base64UrlEncode_1M(benchmark::State& state) {
  const std::string in = payload(1 << 20);
  for (auto _ : state) benchmark::DoNotOptimize(base64url_encode(in));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) << 20);
}
BENCHMARK(BM_Base64UrlEncode_1M)->Unit(benchmark::kMicrosecond);

void BM_Base64UrlDecode_1M(benchmark::State& state) {
  const std::string in = base64url_encode(payload(1 << 20));
  for (auto _ : state) benchmark::DoNotOptimize(base64url_decode(in));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) << 20);
}
BENCHMARK(BM_Base64UrlDecode_1M)->Unit(benchmark::kMicrosecond);

// ---- raw OpenSSL primitives (no JOSE around them) ----

// Each primitive once, as the single benchmarks and the chained seal benchmark run it.

void raw_derive(EVP_PKEY* own, EVP_PKEY* peer, unsigned char (&z)[32]) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own, nullptr));
  std::size_t len = sizeof z;
  EVP_PKEY_derive_init(ctx.get());
  EVP_PKEY_derive_set_peer_ex(ctx.get(), peer, 0);  // as `openssl speed ecdhp256`: no peer re-check
  EVP_PKEY_derive(ctx.get(), z, &len);
}

// An ephemeral key on the peer's curve and the ECDH secret with the peer.
void raw_keygen_derive(EVP_PKEY* peer, unsigned char (&z)[32]) {
  PkeyCtxPtr gen(EVP_PKEY_CTX_new_from_pkey(nullptr, peer, nullptr));
  EVP_PKEY* eph = nullptr;
  EVP_PKEY_keygen_init(gen.get());
  EVP_PKEY_keygen(gen.get(), &eph);
  PkeyPtr holder(eph);
  raw_derive(eph, peer, z);
}

void raw_gcm(const EVP_CIPHER* gcm, const unsigned char* key, const unsigned char* iv, const std::string& in,
             std::string& out, unsigned char (&tag)[16]) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  EVP_EncryptInit_ex2(ctx.get(), gcm, key, iv, nullptr);
  EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, bytes(in), static_cast<int>(in.size()));
  EVP_EncryptFinal_ex(ctx.get(), nullptr, &len);
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, tag);
}

void raw_wrap(const EVP_CIPHER* wrap, const unsigned char* kek, const unsigned char* cek, unsigned char (&out)[40]) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0, fin = 0;
  EVP_EncryptInit_ex2(ctx.get(), wrap, kek, nullptr, nullptr);
  EVP_EncryptUpdate(ctx.get(), out, &len, cek, 32);
  EVP_EncryptFinal_ex(ctx.get(), out + len, &fin);
}

std::size_t raw_sign(const unsigned char (&digest)[32], unsigned char (&sig)[80]) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, signing_key().pkey(), nullptr));
  std::size_t len = sizeof sig;
  EVP_PKEY_sign_init(ctx.get());
  EVP_PKEY_sign(ctx.get(), sig, &len, digest, sizeof digest);
  return len;
}

void BM_Raw_P256_KeygenDerive(benchmark::State& state) {
  unsigned char z[32];
  for (auto _ : state) {
    raw_keygen_derive(key(kP256).pkey(), z);
    benchmark::DoNotOptimize(z);
  }
}
BENCHMARK(BM_Raw_P256_KeygenDerive)->Unit(benchmark::kMicrosecond);

void BM_Raw_Derive(benchmark::State& state) {
  EVP_PKEY* peer = key(static_cast<int>(state.range(0))).pkey();
  PkeyPtr eph(state.range(0) == kP256 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  unsigned char z[32];
  for (auto _ : state) {
    raw_derive(eph.get(), peer, z);
    benchmark::DoNotOptimize(z);
  }
  state.SetLabel(kKeyNames[state.range(0)]);
}
BENCHMARK(BM_Raw_Derive)->Arg(kP256)->Arg(kX25519)->Unit(benchmark::kMicrosecond);

void BM_Raw_AesGcm256(benchmark::State& state) {
  unsigned char k[32] = {1}, iv[12] = {2}, tag[16];
  const std::string in = payload(static_cast<std::size_t>(state.range(0)));
  std::string out(in.size(), '\0');
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  for (auto _ : state) {
    raw_gcm(cipher, k, iv, in, out, tag);
    benchmark::DoNotOptimize(tag);
  }
  EVP_CIPHER_free(cipher);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Raw_AesGcm256)->Arg(4 << 10)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);

void BM_Raw_AesKeyWrap256(benchmark::State& state) {
  unsigned char kek[32] = {5}, cek[32] = {6}, out[40];
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-WRAP", nullptr);
  for (auto _ : state) {
    raw_wrap(cipher, kek, cek, out);
    benchmark::DoNotOptimize(out);
  }
  EVP_CIPHER_free(cipher);
}
BENCHMARK(BM_Raw_AesKeyWrap256)->Unit(benchmark::kMicrosecond);

void BM_Raw_Rand44(benchmark::State& state) {  // content key + iv
  unsigned char buf[44];
  for (auto _ : state) {
    RAND_bytes(buf, sizeof buf);
    benchmark::DoNotOptimize(buf);
  }
}
BENCHMARK(BM_Raw_Rand44)->Unit(benchmark::kMicrosecond);

void BM_Raw_EcdsaP256Sign(benchmark::State& state) {
  unsigned char digest[32] = {3}, sig[80];
  for (auto _ : state) {
    raw_sign(digest, sig);
    benchmark::DoNotOptimize(sig);
  }
}
BENCHMARK(BM_Raw_EcdsaP256Sign)->Unit(benchmark::kMicrosecond);

void BM_Raw_EcdsaP256Verify(benchmark::State& state) {
  unsigned char digest[32] = {3}, sig[80];
  const std::size_t siglen = raw_sign(digest, sig);
  for (auto _ : state) {
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, signing_key().pkey(), nullptr));
    EVP_PKEY_verify_init(ctx.get());
    benchmark::DoNotOptimize(EVP_PKEY_verify(ctx.get(), sig, siglen, digest, sizeof digest));
  }
}
BENCHMARK(BM_Raw_EcdsaP256Verify)->Unit(benchmark::kMicrosecond);

void BM_Raw_Sha256_6K(benchmark::State& state) {  // the JWE of a 4 KB message is ~5.9 KB
  const std::string in = payload(6 << 10);
  unsigned char md[32];
  for (auto _ : state) {
    EVP_Digest(in.data(), in.size(), md, nullptr, EVP_sha256(), nullptr);
    benchmark::DoNotOptimize(md);
  }
}
BENCHMARK(BM_Raw_Sha256_6K)->Unit(benchmark::kMicrosecond);

// The primitives of one seal run back to back, without any JOSE around them: the
// denominator of the README's seal ratio, measured in the same run as the seal.
void BM_Raw_SealPrimitives_P256_4K(benchmark::State& state) {
  EVP_PKEY* peer = key(kP256).pkey();
  EVP_CIPHER* gcm = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  EVP_CIPHER* wrap = EVP_CIPHER_fetch(nullptr, "AES-256-WRAP", nullptr);
  const std::string plain = payload(4 << 10), jwe = payload(6 << 10);
  std::string ciphertext(plain.size(), '\0');
  unsigned char random[44], z[32], wrapped[40], tag[16], md[32], sig[80];
  for (auto _ : state) {
    raw_keygen_derive(peer, z);
    RAND_bytes(random, sizeof random);
    raw_wrap(wrap, z, random, wrapped);  // Z stands in for the KEK
    raw_gcm(gcm, random, random + 32, plain, ciphertext, tag);
    EVP_Digest(jwe.data(), jwe.size(), md, nullptr, EVP_sha256(), nullptr);
    raw_sign(md, sig);
    benchmark::DoNotOptimize(sig);
  }
  EVP_CIPHER_free(gcm);
  EVP_CIPHER_free(wrap);
}
BENCHMARK(BM_Raw_SealPrimitives_P256_4K)->Unit(benchmark::kMicrosecond);

void BM_Raw_RsaOaepDecrypt(benchmark::State& state) {
  const Jwk& k = key(static_cast<int>(state.range(0)));
  unsigned char cek[32] = {4};
  std::string ek(static_cast<std::size_t>(EVP_PKEY_get_size(k.pkey())), '\0');
  std::size_t eklen = ek.size();
  {
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, k.pkey(), nullptr));
    EVP_PKEY_encrypt_init(ctx.get());
    EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING);
    EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256());
    EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(ek.data()), &eklen, cek, sizeof cek);
  }
  unsigned char out[512];
  for (auto _ : state) {
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, k.pkey(), nullptr));
    EVP_PKEY_decrypt_init(ctx.get());
    EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING);
    EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256());
    std::size_t len = sizeof out;
    benchmark::DoNotOptimize(EVP_PKEY_decrypt(ctx.get(), out, &len, bytes(ek), eklen));
  }
  state.SetLabel(kKeyNames[state.range(0)]);
}
BENCHMARK(BM_Raw_RsaOaepDecrypt)->Arg(kRsa3072)->Arg(kRsa4096)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
