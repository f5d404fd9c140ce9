// The security keys of the configuration: what is accepted, what is refused with
// FILE:LINE, and plain HTTP off loopback.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "gateway/config/config.h"
#include "gateway/config/security_config_reader.h"

namespace xoev {
namespace {

struct TempConfig {
  fs::path dir, file;
  explicit TempConfig(const std::string& gateway_extra, const std::string& tail) {
    std::string templ = (fs::temp_directory_path() / "xoev-seccfg-XXXXXX").string();
    dir = mkdtemp(templ.data());
    fs::create_directories(dir / "keys");
    for (const char* k : {"keys/gw.jwk", "keys/d.jwk", "keys/d.pub.jwk", "keys/idp.jwks.json", "tls.pem", "tls.key"})
      std::ofstream(dir / k) << "{}";
    file = dir / "gateway.yaml";
    std::ofstream(file) << "gateway:\n" << gateway_extra << R"(kafka:
  bootstrap: embedded
keys:
  signing: keys/gw.jwk
destinations:
  - id: d
    encryption_keys: [keys/d.pub.jwk]
    adapter: {type: file, directory: inbox, decryption_keys: [keys/d.jwk]}
routes:
  - name: all
    match: {reader: "*"}
    destination: d
)" << tail;
  }
  ~TempConfig() { fs::remove_all(dir); }
};

std::string all_problems(const std::vector<Problem>& problems) {
  std::string out;
  for (const auto& p : problems) out += p.one_line() + "\n";
  return out;
}

const char* kSenders = R"(senders:
  - id: dienst-a
    client_certificate_sha256: "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89"
    may_send: [{standard: XBeteiligung, message_type: "04*", reader: "xyz:*"}]
    may_speak_for: ["xyz:0001"]
    rate_limit_per_second: 2.5
  - id: idp
    jwt: {issuer: "https://idp", audience: xoevgate, jwks: keys/idp.jwks.json}
  - id: ops
    client_id: ops
    client_secret_hash: "pbkdf2-sha256$10000$c2FsdC1zYWx0LXNhbHQtMQ$x3xamc2jZIuYmjvsLgLLNKYb-eIa2l4d5fk6iQxMJA0"
admins: [ops]
tokens: {lifetime: 10m, clock_skew: 30s}
audit: {file: var/audit.jsonl}
)";

TEST(SecurityConfig, ReadsSendersAdminsTokensAndAudit) {
  TempConfig t("  listen: 127.0.0.1:0\n  tls: {certificate: tls.pem, private_key: tls.key}\n", kSenders);
  Config c;
  const auto problems = read_config(t.file, c);
  ASSERT_TRUE(problems.empty()) << all_problems(problems);
  const auto& s = c.security;
  ASSERT_EQ(s.senders.size(), 3u);
  EXPECT_TRUE(s.authenticated());
  EXPECT_EQ(s.senders[0].client_certificate_sha256.substr(0, 6), "AB:CD:");
  EXPECT_EQ(s.senders[0].may_send.at(0).message_type, "04*");
  EXPECT_DOUBLE_EQ(s.senders[0].rate_limit_per_second, 2.5);
  EXPECT_EQ(s.senders[1].jwt->jwks, t.dir / "keys/idp.jwks.json");
  EXPECT_TRUE(s.is_admin("ops"));
  EXPECT_FALSE(s.is_admin("dienst-a"));
  EXPECT_EQ(s.token_lifetime, std::chrono::minutes(10));
  EXPECT_EQ(s.clock_skew, std::chrono::seconds(30));
  EXPECT_EQ(*s.audit_file, t.dir / "var/audit.jsonl");
  ASSERT_TRUE(s.tls);
  EXPECT_TRUE(s.tls->client_ca.empty());
}

TEST(SecurityConfig, WithoutSendersStaysAnonymous) {
  TempConfig t("  listen: 127.0.0.1:0\n", "");
  Config c;
  ASSERT_TRUE(read_config(t.file, c).empty());
  EXPECT_FALSE(c.security.authenticated());
  EXPECT_FALSE(c.security.tls);
}

TEST(SecurityConfig, PlainHttpOffLoopbackNeedsConsent) {
  {
    TempConfig t("  listen: 0.0.0.0:8080\n", "");
    const auto problems = check_config(t.file);
    ASSERT_EQ(problems.size(), 1u) << all_problems(problems);
    EXPECT_NE(problems[0].detail.find("allow_plaintext"), std::string::npos);
    EXPECT_EQ(problems[0].location->line, 2);
  }
  TempConfig allowed("  listen: 0.0.0.0:8080\n  allow_plaintext: true\n", "");
  EXPECT_TRUE(check_config(allowed.file).empty());
  TempConfig with_tls("  listen: 0.0.0.0:8080\n  tls: {certificate: tls.pem, private_key: tls.key}\n", "");
  EXPECT_TRUE(check_config(with_tls.file).empty()) << all_problems(check_config(with_tls.file));
  for (const char* host : {"127.0.0.1:1", "127.0.0.5:1", "[::1]:1", "localhost:1"})
    EXPECT_TRUE(config_detail::is_loopback_listen(host)) << host;
  for (const char* host : {"0.0.0.0:1", "[::]:1", "10.0.0.1:1", "128.0.0.1:1"})
    EXPECT_FALSE(config_detail::is_loopback_listen(host)) << host;
}

TEST(SecurityConfig, RefusesMistakesWithTheirLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"senders:\n  - id: a\n    may_send: [{}]\n", "no credential"},
      {"senders:\n  - id: a\n    client_id: a\n    client_secret_hash: hunter2\n", "never the secret itself"},
      {"senders:\n  - id: a\n    client_id: a\n", "go together"},
      {"senders:\n  - id: a\n    client_id: a\n    client_secret_hash: \"pbkdf2-sha256$1000$c2FsdC1zYWx0LXNhbHQtMQ$"
       "x3xamc2jZIuYmjvsLgLLNKYb-eIa2l4d5fk6iQxMJA0\"\n",
       "10000"},
      {"senders:\n  - id: a\n    client_certificate_sha256: \"AB:CD\"\n", "32 bytes"},
      {"senders:\n  - id: a\n    client_id: a\n    client_secret_hash: \"pbkdf2-sha256$10000$c2FsdC1zYWx0LXNhbHQtMQ$"
       "x3xamc2jZIuYmjvsLgLLNKYb-eIa2l4d5fk6iQxMJA0\"\n    colour: blue\n",
       "colour"},
      {"admins: [nobody]\n", "not a sender id"},
      {"tokens: {lifetime: 2h}\n", "30m"},
      {"audit: {file: a.jsonl, rotate: daily}\n", "rotate"},
  };
  for (const auto& [tail, expected] : cases) {
    TempConfig t("  listen: 127.0.0.1:0\n", tail);
    const auto problems = check_config(t.file);
    const std::string text = all_problems(problems);
    EXPECT_NE(text.find(expected), std::string::npos) << tail << "\n→ " << text;
    for (const auto& p : problems) EXPECT_TRUE(p.location && p.location->line > 0) << p.one_line();
  }
}

}  // namespace
}  // namespace xoev
