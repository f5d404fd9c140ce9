// Published vectors, where they apply to what xoevgate implements:
//  - RFC 7516 A.1: its A256GCM content encryption (the vector's key management is
//    RSA-OAEP with SHA-1, which xoevgate deliberately does not accept, so the CEK
//    given in the RFC is used directly);
//  - RFC 7516 A.3: AES key wrap of its CEK (A128KW; xoevgate uses the same RFC 3394
//    code with a 256-bit KEK);
//  - RFC 7518 Appendix C: ECDH-ES P-256 agreement + Concat KDF (whole derivation);
//  - RFC 8037 A.4/A.5: Ed25519 JWS signature (deterministic, so compared byte for byte);
//  - RFC 7515 A.3: ES256 signature verification (ECDSA is randomized: verify only).
// RFC 7520 §5.4 (ECDH-ES+A128KW on P-384) is not usable: no P-384, no A128KW-with-ECDH.
#include <gtest/gtest.h>

#include "gateway/crypto/base64url.h"
#include "gateway/crypto/concat_kdf.h"
#include "gateway/crypto/content_cipher.h"
#include "gateway/crypto/jwk.h"
#include "gateway/crypto/jws.h"
#include "gateway/crypto/key_agreement.h"
#include "gateway/crypto/key_ring.h"
#include "gateway/crypto/key_wrap.h"

namespace xoev::crypto {
namespace {

Secret secret_of(std::initializer_list<int> v) {
  Secret s(v.size());
  std::size_t i = 0;
  for (int b : v) s.data()[i++] = static_cast<unsigned char>(b);
  return s;
}

std::string b64d(std::string_view s) {
  auto d = base64url_decode(s);
  EXPECT_TRUE(d) << s;
  return d.value_or("");
}

TEST(RfcVectors, Rfc7516A1ContentEncryptionA256Gcm) {
  const Secret cek = secret_of({177, 161, 244, 128, 84,  143, 225, 115, 63,  180, 3,  255, 107, 154, 212, 246,
                                138, 7,   110, 91,  112, 46,  34,  105, 47,  130, 203, 46, 122, 234, 64,  252});
  const std::string iv = b64d("48V1_ALb6US04U3b");
  const std::string aad = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ";
  const std::string plaintext = "The true sign of intelligence is not knowledge but imagination.";
  const std::string ciphertext =
      "5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A";
  const std::string tag = "XFBoMYUZodetZdvTiFvSkQ";

  auto sealed = aes256gcm_encrypt(cek, iv, aad, plaintext);
  ASSERT_TRUE(sealed) << sealed.problem().one_line();
  EXPECT_EQ(base64url_encode(sealed->ciphertext), ciphertext);
  EXPECT_EQ(base64url_encode(sealed->tag), tag);

  auto opened = aes256gcm_decrypt(cek, iv, aad, b64d(ciphertext), b64d(tag));
  ASSERT_TRUE(opened) << opened.problem().one_line();
  EXPECT_EQ(*opened, plaintext);
  // The header is authenticated: one changed AAD character and nothing comes out.
  std::string other_aad = aad;
  other_aad[5] = 'X';
  EXPECT_FALSE(aes256gcm_decrypt(cek, iv, other_aad, b64d(ciphertext), b64d(tag)));
}

TEST(RfcVectors, Rfc7516A3AesKeyWrap) {
  const Secret kek = [] {
    auto raw = base64url_decode("GawgguFyGrWKav7AX4VKUg").value();
    return Secret(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  }();
  const Secret cek = secret_of({4,   211, 31,  197, 84,  157, 252, 254, 11,  100, 157, 250, 63, 170, 106, 206,
                                107, 124, 212, 45,  111, 107, 9,   219, 200, 177, 0,   240, 143, 156, 44,  207});
  const std::string expected = "6KB707dM9YTIgHtLvtgWQ8mKwboJW3of9locizkDTHzBC2IlrT1oOQ";
  auto wrapped = aes_key_wrap(kek, cek);
  ASSERT_TRUE(wrapped) << wrapped.problem().one_line();
  EXPECT_EQ(base64url_encode(*wrapped), expected);
  auto unwrapped = aes_key_unwrap(kek, b64d(expected));
  ASSERT_TRUE(unwrapped);
  EXPECT_EQ(unwrapped->view(), cek.view());
  std::string bad = b64d(expected);
  bad[0] = static_cast<char>(bad[0] ^ 1);
  EXPECT_FALSE(aes_key_unwrap(kek, bad));
}

TEST(RfcVectors, Rfc7518AppendixCEcdhEsConcatKdf) {
  auto alice_ephemeral = Jwk::parse(R"({"kty":"EC","crv":"P-256",
    "x":"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0","y":"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",
    "d":"0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo"})");
  auto bob = Jwk::parse(R"({"kty":"EC","crv":"P-256",
    "x":"weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ","y":"e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck",
    "d":"VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw"})");
  ASSERT_TRUE(alice_ephemeral) << alice_ephemeral.problem().one_line();
  ASSERT_TRUE(bob) << bob.problem().one_line();
  // Both directions agree on Z (this is what encrypt and decrypt each compute).
  auto z_sender = ecdh_shared_secret(alice_ephemeral->pkey(), bob->public_key().pkey());
  auto z_recipient = ecdh_shared_secret(bob->pkey(), alice_ephemeral->public_key().pkey());
  ASSERT_TRUE(z_sender && z_recipient);
  EXPECT_EQ(z_sender->view(), z_recipient->view());
  auto derived = concat_kdf(*z_sender, "A128GCM", "Alice", "Bob", 16);
  ASSERT_TRUE(derived) << derived.problem().one_line();
  EXPECT_EQ(base64url_encode(derived->view()), "VqqN6vgjbSBcIijNcacQGg");
}

TEST(RfcVectors, Rfc8037Ed25519Signature) {
  auto key = Jwk::parse(R"({"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})");
  ASSERT_TRUE(key) << key.problem().one_line();
  const std::string input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
  const std::string expected =
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
  auto sig = jws_signature(input, *key);
  ASSERT_TRUE(sig) << sig.problem().one_line();
  EXPECT_EQ(base64url_encode(*sig), expected);
  EXPECT_TRUE(jws_check_signature(input, b64d(expected), key->public_key()));
  EXPECT_FALSE(jws_check_signature(input + "x", b64d(expected), key->public_key()));
}

TEST(RfcVectors, Rfc7515A3Es256Verification) {
  auto key = Jwk::parse(R"({"kty":"EC","crv":"P-256",
    "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})");
  ASSERT_TRUE(key) << key.problem().one_line();
  const std::string input =
      "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
  const std::string sig =
      b64d("DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q");
  EXPECT_TRUE(jws_check_signature(input, sig, *key));
  std::string flipped = sig;
  flipped[10] = static_cast<char>(flipped[10] ^ 0x40);
  EXPECT_FALSE(jws_check_signature(input, flipped, *key));
}

}  // namespace
}  // namespace xoev::crypto
