// Secrets outside the YAML: `${ENV}` values and `<key>_file` siblings (README
// "Operations: secrets").
#include "adapters/outbound/http/http_settings.h"
#include "gateway/config/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

using namespace xoev;

namespace {

struct SecretsConfig {
  fs::path dir;
  fs::path file;
  SecretsConfig(const std::string& kafka_properties, const std::string& adapter_extra = "",
                const std::string& callback = "") {
    dir = fs::temp_directory_path() / ("xoev-secrets-" + std::to_string(::getpid()) + "-" +
                                       std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(dir / "keys");
    for (const char* k : {"keys/gw.jwk", "keys/gw.pub.jwk", "keys/d.jwk", "keys/d.pub.jwk"}) std::ofstream(dir / k) << "{}";
    file = dir / "gateway.yaml";
    std::ofstream(file) << "gateway:\n  listen: 127.0.0.1:0\n"
                        << "kafka:\n  bootstrap: broker1:9092\n  properties:\n"
                        << "    security.protocol: SASL_SSL\n    sasl.mechanisms: PLAIN\n"
                        << kafka_properties  // line 8 onwards
                        << "keys:\n  signing: keys/gw.jwk\n  trusted_gateways: [keys/gw.pub.jwk]\n"
                        << "destinations:\n  - id: fv\n    encryption_keys: [keys/d.pub.jwk]\n    adapter:\n"
                        << "      type: http\n      url: https://fv.example/inbox\n"
                        << "      decryption_keys: [keys/d.jwk]\n"
                        << adapter_extra << "routes:\n  - name: all\n    match: {reader: \"psw:*\"}\n"
                        << "    destination: fv\n"
                        << callback;
  }
  ~SecretsConfig() { fs::remove_all(dir); }
  void write(const std::string& name, const std::string& content) const { std::ofstream(dir / name) << content; }
};

// The first problem's one line, or "" when the config loads.
std::string first_error(const SecretsConfig& t) {
  auto c = load_config(t.file);
  return c ? std::string() : c.problem().one_line();
}

TEST(ConfigSecrets, EnvironmentReferenceIsReplacedByTheVariable) {
  ::setenv("XOEV_TEST_SASL_PASSWORD", "pa$$ word", 1);
  SecretsConfig t("    sasl.username: gateway\n    sasl.password: ${XOEV_TEST_SASL_PASSWORD}\n");
  auto c = load_config(t.file);
  ASSERT_TRUE(c.ok()) << c.problem().one_line();
  EXPECT_EQ(c->kafka.properties.at("sasl.password"), "pa$$ word");
  EXPECT_EQ(c->kafka.properties.at("sasl.username"), "gateway") << "plain values stay as written";
  ::unsetenv("XOEV_TEST_SASL_PASSWORD");
}

TEST(ConfigSecrets, UnsetVariableIsAnErrorNamingKeyVariableAndLine) {
  ::unsetenv("XOEV_TEST_UNSET_SECRET");
  SecretsConfig t("    sasl.username: gateway\n    sasl.password: ${XOEV_TEST_UNSET_SECRET}\n");
  const std::string e = first_error(t);
  EXPECT_NE(e.find("gateway.yaml:9:"), std::string::npos) << e;
  EXPECT_NE(e.find("kafka.properties.sasl.password"), std::string::npos) << e;
  EXPECT_NE(e.find("XOEV_TEST_UNSET_SECRET"), std::string::npos) << e;
}

TEST(ConfigSecrets, FileSiblingGivesTheContentWithoutTrailingNewline) {
  SecretsConfig t("    sasl.username: gateway\n    sasl.password_file: kafka.secret\n    ssl.key.password_file: /nonexistent-dir/x\n");
  t.write("kafka.secret", "from-a-file\n");
  EXPECT_NE(first_error(t).find("ssl.key.password_file: cannot read '/nonexistent-dir/x'"), std::string::npos)
      << first_error(t);

  SecretsConfig ok("    sasl.username: gateway\n    sasl.password_file: kafka.secret\n");
  ok.write("kafka.secret", "from-a-file\r\n");
  auto c = load_config(ok.file);
  ASSERT_TRUE(c.ok()) << c.problem().one_line();
  EXPECT_EQ(c->kafka.properties.at("sasl.password"), "from-a-file");
  EXPECT_FALSE(c->kafka.properties.count("sasl.password_file")) << "the _file key is no librdkafka property";
}

TEST(ConfigSecrets, ValueAndFileTogetherAreRefused) {
  SecretsConfig t("    sasl.password: x\n    sasl.password_file: kafka.secret\n");
  t.write("kafka.secret", "y");
  EXPECT_NE(first_error(t).find("not both"), std::string::npos) << first_error(t);
}

TEST(ConfigSecrets, HttpAdapterAndCallbackHmacSecretsFromTheEnvironment) {
  ::setenv("XOEV_TEST_HMAC", "0123456789abcdef-hmac", 1);
  SecretsConfig t("", "      hmac_secret: ${XOEV_TEST_HMAC}\n",
                  "    callback: {url: \"https://sender.example/receipts\", hmac_secret: \"${XOEV_TEST_HMAC}\"}\n");
  auto c = load_config(t.file);
  ASSERT_TRUE(c.ok()) << c.problem().one_line();
  EXPECT_EQ(c->destinations[0].adapter.as<HttpSettings>().hmac_secret, "0123456789abcdef-hmac");
  EXPECT_EQ(c->routes[0].callback_secret, "0123456789abcdef-hmac");
  ::unsetenv("XOEV_TEST_HMAC");
  SecretsConfig unset("", "      hmac_secret: ${XOEV_TEST_HMAC}\n");
  EXPECT_NE(first_error(unset).find("XOEV_TEST_HMAC, which is not set"), std::string::npos) << first_error(unset);
}

}  // namespace
