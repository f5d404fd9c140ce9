// check-config must refuse everything serve and deliver would refuse, with the
// config's FILE:LINE. Each case here was once printed `ok` and failed later.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "gateway/config/config.h"
#include "gateway/config/outbound_registry.h"
#include "gateway/crypto/jwe.h"
#include "gateway/crypto/jws.h"
#include "gateway/crypto/key_file.h"
#include "gateway/preflight/preflight.h"
#include "tests/support/files.h"

using namespace xoev;
using xoev::crypto::Jwk;

namespace {

// A config with real keys: gateway ES256 pair, destination ECDH-ES P-256 pair, a
// second destination pair, an ECDH key misused as signing key, an HMAC secret.
struct Fixture {
  test::TempDir dir{"xoev-check-"};
  Fixture() {
    key("gw", Jwk::Type::ec_p256, crypto::kAlgEs256);
    key("d", Jwk::Type::ec_p256, crypto::kAlgEcdhEsA256kw);
    key("e", Jwk::Type::ec_p256, crypto::kAlgEcdhEsA256kw);
    test::write_file(dir.path / "keys/short.secret", "too-short\n");
    test::write_file(dir.path / "keys/long.secret", "0123456789abcdef0123456789abcdef\n");
  }
  void key(const std::string& name, Jwk::Type type, std::string_view alg) {
    fs::create_directories(dir.path / "keys");
    auto k = Jwk::generate(type, name, std::string(alg));
    ASSERT_TRUE(k.ok());
    ASSERT_TRUE(crypto::write_jwk_file(dir.path / "keys" / (name + ".jwk"), *k, true).ok());
    ASSERT_TRUE(crypto::write_jwk_file(dir.path / "keys" / (name + ".pub.jwk"), *k, false).ok());
  }
  // read_config, then (if clean) every preflight check, as `check-config` runs them.
  std::vector<Problem> check(const std::string& yaml) {
    const auto file = dir.path / "gateway.yaml";
    test::write_file(file, yaml);
    Config c;
    auto problems = read_config(file, c);
    if (problems.empty()) problems = preflight(c, PreflightScope::everything());
    return problems;
  }
};

// Line numbers below count in this text; an adapter's problems point at the first
// line of its mapping (12).
const std::string kValid = R"(gateway:
  listen: 127.0.0.1:18080
kafka:
  bootstrap: embedded
keys:
  signing: keys/gw.jwk
  trusted_gateways: [keys/gw.pub.jwk]
destinations:
  - id: standesamt
    encryption_keys: [keys/d.pub.jwk]
    adapter:
      type: file
      directory: inbox
      decryption_keys: [keys/d.jwk]
      in_process: true
routes:
  - name: all
    match: {reader: "psw:*"}
    destination: standesamt
)";

std::string replaced(std::string s, const std::string& what, const std::string& with) {
  const auto at = s.find(what);
  EXPECT_NE(at, std::string::npos) << what;
  if (at != std::string::npos) s.replace(at, what.size(), with);
  return s;
}

// The problem mentioning `text`, or a failure listing what was found.
const Problem* find(const std::vector<Problem>& problems, const std::string& text) {
  for (const auto& p : problems)
    if (p.detail.find(text) != std::string::npos) return &p;
  std::string all;
  for (const auto& p : problems) all += "\n  " + p.one_line();
  ADD_FAILURE() << "no problem mentions '" << text << "'; got:" << (all.empty() ? " none" : all);
  return nullptr;
}

int line_of(const Problem* p) { return p && p->location ? p->location->line : -1; }

const std::string kSecondDestination =
    "  - id: second\n"
    "    encryption_keys: [keys/e.pub.jwk]\n"
    "    adapter: {type: file, directory: second, decryption_keys: [keys/e.jwk]}\n"
    "routes:\n";

}  // namespace

TEST(ConfigCheck, TheValidConfigPasses) {
  Fixture f;
  auto problems = f.check(kValid);
  for (const auto& p : problems) ADD_FAILURE() << p.one_line();
}

TEST(ConfigCheck, MisspelledKafkaPropertyIsRefusedWithItsLine) {
  Fixture f;
  auto p = f.check(replaced(kValid, "  bootstrap: embedded\n",
                            "  bootstrap: embedded\n  properties:\n    securty.protocol: SSL\n"));
  EXPECT_EQ(line_of(find(p, "securty.protocol")), 6);
}

TEST(ConfigCheck, KafkaSettingsTheGatewayOwnsCannotBeOverridden) {
  Fixture f;
  auto p = f.check(replaced(kValid, "  bootstrap: embedded\n", "  bootstrap: embedded\n  properties: {acks: \"1\"}\n"));
  EXPECT_EQ(line_of(find(p, "kafka.properties.acks is set by the gateway")), 5);
}

TEST(ConfigCheck, UnregisteredAdapterTypeIsRefused) {
  Fixture f;
  auto p = f.check(replaced(kValid, "type: file", "type: smtp"));
  const auto* found = find(p, "adapter type 'smtp' is not available");
  EXPECT_EQ(line_of(found), 12);
  if (found) {
    EXPECT_NE(found->detail.find("file, gateway, http, xta"), std::string::npos) << found->detail;
  }
}

TEST(ConfigCheck, XsltIsRefusedBecauseNothingAppliesIt) {
  Fixture f;
  auto p = f.check(replaced(kValid, "      in_process: true\n", "      in_process: true\n      xslt: keys/long.secret\n"));
  EXPECT_EQ(line_of(find(p, "xslt transforms are not supported")), 16);
}

TEST(ConfigCheck, AnotherAdaptersKeyIsUnknownForThisOne) {
  Fixture f;
  auto p = f.check(replaced(kValid, "      in_process: true\n",
                            "      in_process: true\n      hmac_secret_file: keys/long.secret\n"));
  EXPECT_EQ(line_of(find(p, "unknown key 'hmac_secret_file'")), 16);
}

TEST(ConfigCheck, MisspelledCommonAdapterKeyIsUnknown) {
  Fixture f;
  auto p = f.check(replaced(kValid, "      in_process: true\n", "      in_process: true\n      max_attemps: 3\n"));
  EXPECT_EQ(line_of(find(p, "unknown key 'max_attemps'")), 16);
}

TEST(ConfigCheck, TwoDestinationsCannotShareATopic) {
  Fixture f;
  auto p = f.check(replaced(kValid, "routes:\n",
                            replaced(kSecondDestination, "  - id: second\n", "  - id: second\n    topic: xoev.standesamt\n")));
  EXPECT_EQ(line_of(find(p, "uses topic 'xoev.standesamt'")), 16);
}

TEST(ConfigCheck, TwoDestinationsCannotShareAnInbox) {
  Fixture f;
  auto p = f.check(replaced(kValid, "routes:\n", replaced(kSecondDestination, "directory: second", "directory: ./inbox")));
  EXPECT_EQ(line_of(find(p, "uses inbox directory")), 18);
}

TEST(ConfigCheck, EncryptionKeyMustBeThePublicHalfOfTheDecryptionKey) {
  Fixture f;
  auto p = f.check(replaced(kValid, "encryption_keys: [keys/d.pub.jwk]", "encryption_keys: [keys/e.pub.jwk]"));
  EXPECT_EQ(line_of(find(p, "could not be opened by its adapter")), 12);
}

TEST(ConfigCheck, AKeyAgreementKeyCannotSign) {
  Fixture f;
  auto p = f.check(replaced(replaced(kValid, "signing: keys/gw.jwk", "signing: keys/d.jwk"), "[keys/gw.pub.jwk]",
                            "[keys/d.pub.jwk]"));
  EXPECT_EQ(line_of(find(p, "cannot seal a message")), 9);
}

TEST(ConfigCheck, APublicKeyCannotDecrypt) {
  Fixture f;
  auto p = f.check(replaced(kValid, "decryption_keys: [keys/d.jwk]", "decryption_keys: [keys/d.pub.jwk]"));
  EXPECT_EQ(line_of(find(p, "is a public key; the adapter needs the private key")), 12);
}

TEST(ConfigCheck, AReadablePrivateKeyIsRefusedWithTheConfigLine) {
  Fixture f;
  ASSERT_EQ(::chmod((f.dir.path / "keys/d.jwk").c_str(), 0644), 0);
  auto p = f.check(kValid);
  const auto* found = find(p, "decryption_keys");
  EXPECT_EQ(line_of(found), 12);
  if (found) {
    EXPECT_EQ(found->location->file, (f.dir.path / "gateway.yaml").string());
  }
}

TEST(ConfigCheck, DuplicateYamlKeyIsRefused) {
  Fixture f;
  auto p = f.check(replaced(kValid, "      in_process: true\n", "      in_process: true\n      in_process: false\n"));
  EXPECT_EQ(line_of(find(p, "key 'in_process' appears twice")), 16);
}

TEST(ConfigCheck, XtaListenerCannotTakeTheGatewaysPort) {
  Fixture f;
  auto p = f.check(replaced(kValid, "      type: file\n      directory: inbox\n",
                            "      type: xta\n      directory: mailbox\n      listen: 0.0.0.0:18080\n"));
  EXPECT_EQ(line_of(find(p, "listen address '0.0.0.0:18080' which gateway.listen")), 12);
}

TEST(ConfigCheck, PlainHttpCallbackOnlyToTheLoopbackAddress) {
  Fixture f;
  auto p = f.check(kValid + "    callback: {url: \"http://127.evil.example/cb\", hmac_secret_file: keys/long.secret}\n");
  EXPECT_EQ(line_of(find(p, "callback url must be https://")), 20);
  auto ok = f.check(kValid + "    callback: {url: \"http://127.0.0.1:9/cb\", hmac_secret_file: keys/long.secret}\n");
  for (const auto& q : ok) ADD_FAILURE() << q.one_line();
}

TEST(ConfigCheck, DestinationIdOfAGatewayServiceIsReserved) {
  Fixture f;
  auto p = f.check(replaced(replaced(kValid, "id: standesamt", "id: callbacks"), "destination: standesamt",
                            "destination: callbacks"));
  EXPECT_EQ(line_of(find(p, "destination id 'callbacks' is reserved")), 9);
}

TEST(ConfigCheck, HmacSecretShorterThanTheAdapterAcceptsIsRefused) {
  Fixture f;
  auto p = f.check(replaced(kValid, "      type: file\n      directory: inbox\n",
                            "      type: http\n      url: http://127.0.0.1:9/in\n      hmac_secret_file: keys/short.secret\n"));
  EXPECT_EQ(line_of(find(p, "shorter than 16 bytes")), 12);
}

TEST(ConfigCheck, EveryBuiltInAdapterIsRegistered) {
  const auto types = outbound_registry::types();
  EXPECT_EQ(types, (std::vector<std::string>{"file", "gateway", "http", "xta"}));
}

TEST(ConfigCheck, MissingKeyFilesAreReportedForTheRoleThatNeedsThem) {
  Fixture f;
  fs::remove(f.dir.path / "keys/d.jwk");
  const auto file = f.dir.path / "gateway.yaml";
  test::write_file(file, kValid);
  Config c;
  ASSERT_TRUE(read_config(file, c).empty());
  // The deliverer needs its decryption key...
  EXPECT_EQ(line_of(find(preflight(c, PreflightScope::deliver("standesamt")), "d.jwk")), 12);
  // ...the gateway alone does not (standesamt is not in_process here).
  c.destinations[0].adapter.in_process = false;
  const auto serve = preflight(c, PreflightScope::serve(c));
  for (const auto& p : serve) ADD_FAILURE() << p.one_line();
}

TEST(ConfigCheck, DurationsKeepTheirUnits) {
  Fixture f;
  const auto file = f.dir.path / "gateway.yaml";
  test::write_file(file, replaced(kValid, "      in_process: true\n",
                                  "      in_process: true\n      max_backoff: 5m\n      initial_backoff: 250ms\n"
                                  "      max_age: 2h\n      dedupe_window: 30d\n"));
  Config c;
  auto problems = read_config(file, c);
  ASSERT_TRUE(problems.empty()) << problems.front().one_line();
  const auto& a = c.destinations[0].adapter;
  EXPECT_EQ(a.max_backoff, std::chrono::minutes(5));
  EXPECT_EQ(a.initial_backoff, std::chrono::milliseconds(250));
  EXPECT_EQ(a.max_age, std::chrono::hours(2));
  EXPECT_EQ(a.dedupe_window, std::chrono::hours(24 * 30));
}

TEST(ConfigCheck, AnInboxThatIsAFileIsReportedButDoesNotStopADeliverer) {
  Fixture f;
  test::write_file(f.dir.path / "inbox", "a file where the inbox should be");
  auto p = f.check(kValid);
  EXPECT_EQ(line_of(find(p, "is not a directory")), 12);
  // A running deliverer retries and dead-letters instead (the mount may come back).
  const auto file = f.dir.path / "gateway.yaml";
  Config c;
  ASSERT_TRUE(read_config(file, c).empty());
  for (const auto& q : preflight(c, PreflightScope::deliver("standesamt"))) ADD_FAILURE() << q.one_line();
}

TEST(ConfigCheck, AnAliasThatContainsItselfIsAnErrorNotACrash) {
  // Found by the config fuzzer (tests/fuzz/corpus/config/self_alias.yaml).
  Fixture f;
  auto p = f.check(kValid + "x: &a [*a]\n");
  EXPECT_NE(find(p, "alias refers to itself"), nullptr);
}
