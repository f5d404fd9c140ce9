// JWS interop with an independent implementation: Debian's python3-jwcrypto, run as a
// child process (/usr/bin/python3, where Debian's jwcrypto imports). Both directions
// for ES256 and EdDSA, and the envelope signature checked by jwcrypto against the
// documented signing input.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto_test_support.h"
#include "gateway/crypto/envelope_seal.h"
#include "gateway/crypto/jws.h"

namespace xoev::crypto {
namespace {

namespace fs = std::filesystem;

class JwsInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("xoev-jws-interop-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name, std::ios::binary) << text; }
  std::string read(const std::string& name) {
    std::ifstream f(dir_ / name, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  // Runs a python snippet with DIR bound to the temp dir; returns the exit status.
  int python(const std::string& code) {
    write("script.py", "import json, sys, os\nDIR = " + nlohmann::json(dir_.string()).dump() + "\n" + code);
    const std::string cmd = "/usr/bin/python3 " + (dir_ / "script.py").string() + " > " + (dir_ / "py.out").string() + " 2>&1";
    const int status = std::system(cmd.c_str());
    if (status != 0) ADD_FAILURE() << "python said: " << read("py.out");
    return status;
  }
  fs::path dir_;
};

TEST_F(JwsInterop, JwcryptoVerifiesOurSignatures) {
  for (const Jwk* key : {&test::es256_sig(), &test::ed25519_sig()}) {
    SCOPED_TRACE(key->describe());
    auto compact = jws_sign("{\"hello\":\"Welt\"}", *key);
    ASSERT_TRUE(compact);
    write("token", *compact);
    write("pub.jwk", key->public_key().serialize(false));
    ASSERT_EQ(python(R"(
from jwcrypto import jwk, jws
key = jwk.JWK.from_json(open(os.path.join(DIR, "pub.jwk")).read())
token = jws.JWS()
token.deserialize(open(os.path.join(DIR, "token")).read(), key=key)
assert token.payload == b'{"hello":"Welt"}', token.payload
assert token.jose_header["kid"] == key.get("kid")
)"), 0);
    // And jwcrypto must reject a flipped signature bit (so the check above can fail).
    write("token", test::flip_bit(*compact, 2, 3));
    ASSERT_EQ(python(R"(
from jwcrypto import jwk, jws
key = jwk.JWK.from_json(open(os.path.join(DIR, "pub.jwk")).read())
token = jws.JWS()
try:
    token.deserialize(open(os.path.join(DIR, "token")).read(), key=key)
    sys.exit("tampered token verified")
except jws.InvalidJWSSignature:
    pass
)"), 0);
  }
}

TEST_F(JwsInterop, WeVerifyJwcryptoSignatures) {
  for (const char* spec : {R"({"kty":"EC","crv":"P-256","alg":"ES256"})", R"({"kty":"OKP","crv":"Ed25519","alg":"EdDSA"})"}) {
    SCOPED_TRACE(spec);
    write("spec", spec);
    ASSERT_EQ(python(R"(
from jwcrypto import jwk, jws
spec = json.loads(open(os.path.join(DIR, "spec")).read())
key = jwk.JWK.generate(kty=spec["kty"], crv=spec["crv"], kid="peer-key")
token = jws.JWS(b"signed by jwcrypto")
token.add_signature(key, alg=spec["alg"], protected=json.dumps({"alg": spec["alg"], "kid": "peer-key"}))
open(os.path.join(DIR, "token"), "w").write(token.serialize(compact=True))
open(os.path.join(DIR, "pub.jwk"), "w").write(key.export_public())
)"), 0);
    auto pub = Jwk::parse(read("pub.jwk"));
    ASSERT_TRUE(pub) << pub.problem().one_line();
    const auto ring = test::ring_of({*pub});
    auto v = jws_verify(read("token"), ring);
    ASSERT_TRUE(v) << v.problem().one_line();
    EXPECT_EQ(v->payload, "signed by jwcrypto");
    EXPECT_EQ(v->kid, "peer-key");
    EXPECT_FALSE(jws_verify(test::flip_bit(read("token"), 2, 1), ring));
  }
}

TEST_F(JwsInterop, JwcryptoChecksTheEnvelopeSignatureAsDocumented) {
  Envelope env;
  env.key = "m-1";
  env.value = "<x>Ärger</x>";
  for (auto name : header::signed_headers) env.set(name, std::string(name) + "-value");
  env.set(header::message_id, "m-1");
  ASSERT_TRUE(seal(env, test::ring_of({test::p256_enc().public_key()}), test::es256_sig()));
  write("value", env.value);
  write("signature", *env.find(header::signature));
  write("pub.jwk", test::es256_sig().public_key().serialize(false));
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [k, v] : env.headers) headers[k] = v;
  write("headers.json", headers.dump());
  ASSERT_EQ(python(R"(
import hashlib
from jwcrypto import jwk, jws
from jwcrypto.common import base64url_encode
key = jwk.JWK.from_json(open(os.path.join(DIR, "pub.jwk")).read())
token = jws.JWS()
token.deserialize(open(os.path.join(DIR, "signature")).read(), key=key)
assert token.jose_header["alg"] == "ES256" and token.jose_header["typ"] == "xoev-envelope-signature"
claims = json.loads(token.payload)
value = open(os.path.join(DIR, "value"), "rb").read()
assert claims["sha256"] == base64url_encode(hashlib.sha256(value).digest()), "digest"
headers = json.load(open(os.path.join(DIR, "headers.json")))
names = ["xoev-message-id", "xoev-message-type", "xoev-standard", "xoev-sender", "xoev-recipient",
         "xoev-destination", "xoev-accepted-at", "content-type", "traceparent"]
assert sorted(claims["headers"]) == sorted(names), claims["headers"]
for n in names:
    assert claims["headers"][n] == headers[n], n
)"), 0);
}

}  // namespace
}  // namespace xoev::crypto
