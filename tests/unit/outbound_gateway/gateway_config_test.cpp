// The gateway adapter's keys as the config loader reads them: url required, https
// unless allow_plaintext, tls files that exist — each refusal at its FILE:LINE.
#include <gtest/gtest.h>

#include "adapters/outbound/gateway/gateway_settings.h"
#include "gateway/config/config.h"
#include "gateway/crypto/jws.h"
#include "gateway/crypto/key_file.h"
#include "tests/support/files.h"

using namespace xoev;

namespace {

struct Fixture {
  test::TempDir dir{"xoev-gwcfg-"};
  Fixture() {
    fs::create_directories(dir.path / "keys");
    auto k = crypto::Jwk::generate(crypto::Jwk::Type::ec_p256, "gw", std::string(crypto::kAlgEs256)).value();
    EXPECT_TRUE(crypto::write_jwk_file(dir.path / "keys/gw.jwk", k, true).ok());
    EXPECT_TRUE(crypto::write_jwk_file(dir.path / "keys/gw.pub.jwk", k, false).ok());
    test::write_file(dir.path / "certs/ca.pem", "not checked by the loader\n");
  }
  std::vector<Problem> read(const std::string& adapter_lines, Config& c) {
    const std::string yaml = R"(gateway:
  listen: 127.0.0.1:18080
kafka:
  bootstrap: embedded
keys:
  signing: keys/gw.jwk
  trusted_gateways: [keys/gw.pub.jwk]
destinations:
  - id: land-b
    encryption_keys: [keys/gw.pub.jwk]
    adapter:
      type: gateway
      decryption_keys: [keys/gw.jwk]
)" + adapter_lines + R"(routes:
  - name: all
    match: {reader: "psw:*"}
    destination: land-b
)";
    test::write_file(dir.path / "gateway.yaml", yaml);
    return read_config(dir.path / "gateway.yaml", c);
  }
};

// Line of the problem mentioning `text`, -1 when there is none.
int line_of(const std::vector<Problem>& problems, const std::string& text) {
  for (const auto& p : problems)
    if (p.detail.find(text) != std::string::npos) return p.location ? p.location->line : 0;
  std::string all;
  for (const auto& p : problems) all += p.one_line() + "\n";
  ADD_FAILURE() << "no problem mentions '" << text << "' in:\n" << all;
  return -1;
}

}  // namespace

TEST(GatewayConfig, HttpsUrlAndTlsAreRead) {
  Fixture f;
  Config c;
  auto problems = f.read("      url: https://xoevgate.land-b.example/\n      tls: {ca: certs/ca.pem}\n"
                         "      status_poll_interval: 500ms\n", c);
  ASSERT_TRUE(problems.empty()) << problems.front().one_line();
  const auto& s = c.destinations.at(0).adapter.as<GatewaySettings>();
  EXPECT_EQ(s.url, "https://xoevgate.land-b.example");
  EXPECT_EQ(s.tls_ca, f.dir.path / "certs/ca.pem");
  EXPECT_EQ(s.status_poll_interval, std::chrono::milliseconds(500));
}

TEST(GatewayConfig, UrlIsRequired) {
  Fixture f;
  Config c;
  EXPECT_EQ(line_of(f.read("", c), "url"), 12);  // the adapter mapping starts at type:
}

TEST(GatewayConfig, PlainHttpOnlyWhenAllowed) {
  Fixture f;
  Config c;
  EXPECT_EQ(line_of(f.read("      url: http://127.0.0.1:9443\n", c), "must be https://"), 14);
  Config allowed;
  EXPECT_TRUE(f.read("      url: http://127.0.0.1:9443\n      allow_plaintext: true\n", allowed).empty());
}

TEST(GatewayConfig, MissingTlsFilesAreRefusedAtTheirLine) {
  Fixture f;
  Config c;
  const auto problems = f.read("      url: https://127.0.0.1:9443\n      tls:\n        certificate: certs/a.pem\n"
                               "        private_key: certs/a.key\n        ca: certs/missing.pem\n", c);
  EXPECT_EQ(line_of(problems, "certs/a.pem does not exist"), 16);
  EXPECT_EQ(line_of(problems, "certs/missing.pem does not exist"), 18);
  Config half;
  EXPECT_GE(line_of(f.read("      url: https://127.0.0.1:9443\n      tls: {certificate: certs/ca.pem}\n", half), "go together"), 15);
}
