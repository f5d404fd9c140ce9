#include "adapters/outbound/file/file_settings.h"
#include "gateway/config/config.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace xoev;

namespace {

struct TempConfig {
  fs::path dir;
  fs::path file;
  explicit TempConfig(const std::string& yaml) {
    dir = fs::temp_directory_path() / ("xoev-config-" + std::to_string(::getpid()) + "-" +
                                       std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(dir / "keys");
    for (const char* k : {"keys/gw.jwk", "keys/gw.pub.jwk", "keys/d.jwk", "keys/d.pub.jwk"}) std::ofstream(dir / k) << "{}";
    file = dir / "gateway.yaml";
    std::ofstream(file) << yaml;
  }
  ~TempConfig() { fs::remove_all(dir); }
};

const char* kValid = R"(gateway:
  listen: 127.0.0.1:0
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

}  // namespace

TEST(Config, LoadsAndResolvesPathsRelativeToTheFile) {
  TempConfig t(kValid);
  auto c = load_config(t.file);
  ASSERT_TRUE(c.ok()) << c.problem().one_line();
  EXPECT_EQ(c->destinations[0].topic, "xoev.standesamt");
  EXPECT_EQ(c->destinations[0].adapter.as<FileSettings>().directory, (t.dir / "inbox").lexically_normal());
  EXPECT_TRUE(c->destinations[0].adapter.in_process);
  EXPECT_EQ(c->routes[0].match.reader, "psw:*");
  EXPECT_TRUE(c->kafka.embedded());
}

TEST(Config, EveryErrorHasFileAndLine) {
  std::string yaml = kValid;
  yaml.replace(yaml.find("listen: 127.0.0.1:0"), 19, "listen: nonsense");
  yaml.replace(yaml.find("destination: standesamt\n"), 24, "destination: nowhere\n");
  yaml += "colour: blue\n";
  TempConfig t(yaml);
  auto problems = check_config(t.file);
  ASSERT_EQ(problems.size(), 3u);
  for (const auto& p : problems) {
    ASSERT_TRUE(p.location.has_value());
    EXPECT_EQ(p.location->file, t.file.string());
    EXPECT_GT(p.location->line, 0) << p.one_line();
  }
  auto find = [&](const std::string& text) -> const Problem* {
    for (const auto& p : problems)
      if (p.detail.find(text) != std::string::npos) return &p;
    return nullptr;
  };
  ASSERT_NE(find("HOST:PORT"), nullptr);
  EXPECT_EQ(find("HOST:PORT")->location->line, 2);
  ASSERT_NE(find("nowhere"), nullptr);
  EXPECT_EQ(find("nowhere")->location->line, 19);
  ASSERT_NE(find("unknown key 'colour'"), nullptr);
  EXPECT_EQ(find("unknown key 'colour'")->location->line, 20);
}

TEST(Config, KeyFilesAreLeftToThePreflightOfTheProcessThatHoldsThem) {
  // A deliverer's host has no signing key, the gateway's no decryption key: the
  // structural load must not require them (gateway/preflight reads them per role).
  TempConfig t(kValid);
  fs::remove(t.dir / "keys/d.jwk");
  fs::remove(t.dir / "keys/gw.jwk");
  EXPECT_TRUE(check_config(t.file).empty());
}

TEST(Config, BrokenYamlGivesLine) {
  TempConfig t("gateway:\n  listen: [unclosed\n");
  auto problems = check_config(t.file);
  ASSERT_FALSE(problems.empty());
  EXPECT_GT(problems[0].location->line, 0);
}

TEST(Config, DuplicateRouteMatchToOtherDestinationIsRefused) {
  std::string yaml = kValid;
  yaml.replace(yaml.find("destinations:\n"), 14,
               "destinations:\n  - id: other\n    encryption_keys: [keys/d.pub.jwk]\n    adapter: {type: file, directory: o, decryption_keys: [keys/d.jwk]}\n");
  yaml += "  - name: again\n    match: {reader: \"psw:*\"}\n    destination: other\n";
  TempConfig t(yaml);
  auto problems = check_config(t.file);
  ASSERT_EQ(problems.size(), 1u) << problems[0].one_line();
  EXPECT_NE(problems[0].detail.find("same match"), std::string::npos);
}

TEST(Config, CallbackMustBeHttpsAndHaveASecret) {
  std::string yaml = kValid;
  yaml += "    callback: {url: \"http://example.org/cb\", hmac_secret_file: keys/none.secret}\n";
  TempConfig t(yaml);
  auto problems = check_config(t.file);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].detail.find("https://"), std::string::npos);
  EXPECT_NE(problems[1].detail.find("none.secret"), std::string::npos);
}

TEST(Config, RegionRulesAreKeysOfOneLevelOfTheHierarchy) {
  for (const char* good : {"06", "06*", "064", "06414", "06414000", "064140000", "064140000000", "*"}) {
    std::string yaml = kValid;
    yaml.replace(yaml.find("match: {reader: \"psw:*\"}"), 24, std::string("match: {region: \"") + good + "\"}");
    TempConfig t(yaml);
    EXPECT_TRUE(check_config(t.file).empty()) << good;
  }
  for (const char* bad : {"0641", "064140", "Hessen", "06?14"}) {
    std::string yaml = kValid;
    yaml.replace(yaml.find("match: {reader: \"psw:*\"}"), 24, std::string("match: {region: \"") + bad + "\"}");
    TempConfig t(yaml);
    auto problems = check_config(t.file);
    ASSERT_EQ(problems.size(), 1u) << bad;
    EXPECT_NE(problems[0].detail.find("is not a region key"), std::string::npos) << problems[0].detail;
    EXPECT_EQ(problems[0].location->line, 18) << bad;
  }
}

TEST(Config, RoutingSectionNamesItsFilesAndPrefixes) {
  std::string yaml = kValid;
  yaml += "routing:\n"
          "  region_prefixes: [ags, \"ps-w\"]\n"
          "  directory: [missing.csv, list.txt]\n";
  TempConfig t(yaml);
  auto problems = check_config(t.file);
  std::vector<std::string> details;
  for (const auto& p : problems) details.push_back(p.detail);
  ASSERT_EQ(problems.size(), 4u) << ::testing::PrintToString(details);
  EXPECT_NE(details[0].find("region prefix"), std::string::npos) << details[0];
  EXPECT_NE(details[1].find("missing.csv' does not exist"), std::string::npos) << details[1];
  EXPECT_NE(details[2].find("must be .csv or .jsonl"), std::string::npos) << details[2];
  EXPECT_NE(details[3].find("needs routing.prefix_codelist"), std::string::npos) << details[3];

  std::string only_directory = kValid;
  only_directory.erase(only_directory.find("routes:"));
  TempConfig t2(only_directory + "routing:\n  prefix_codelist: list.xml\n  directory: [d.csv]\n");
  std::ofstream(t2.dir / "d.csv") << "reader,destination\n";
  std::ofstream(t2.dir / "list.xml") << "<x/>";
  EXPECT_TRUE(check_config(t2.file).empty()) << "a directory alone is enough routing";
}

namespace {
std::string with_stream_limits(const std::string& max_head_bytes, const std::string& backlog_stall) {
  std::string yaml = kValid;
  yaml.replace(yaml.find("  listen: 127.0.0.1:0\n"), 22,
               "  listen: 127.0.0.1:0\n  max_head_bytes: " + max_head_bytes + "\n");
  yaml.replace(yaml.find("  bootstrap: embedded\n"), 22,
               "  bootstrap: embedded\n  backlog_stall: " + backlog_stall + "\n");
  return yaml;
}
}  // namespace

TEST(Config, BacklogWaitHasItsDefaultAcceptsZeroAndRefusesWhatIsOutOfBounds) {
  const auto with_wait = [](const std::string& wait) {
    std::string yaml = kValid;
    yaml.replace(yaml.find("  bootstrap: embedded\n"), 22, "  bootstrap: embedded\n  backlog_wait: " + wait + "\n");
    return yaml;
  };
  {
    TempConfig t(kValid);
    auto c = load_config(t.file);
    ASSERT_TRUE(c.ok()) << c.problem().one_line();
    EXPECT_EQ(c->kafka.backlog_wait, std::chrono::seconds(5));
  }
  for (const auto& [text, value] : {std::pair{"0s", std::chrono::milliseconds(0)},
                                    std::pair{"750ms", std::chrono::milliseconds(750)},
                                    std::pair{"10m", std::chrono::milliseconds(600'000)}}) {
    TempConfig t(with_wait(text));
    auto c = load_config(t.file);
    ASSERT_TRUE(c.ok()) << text << ": " << c.problem().one_line();
    EXPECT_EQ(c->kafka.backlog_wait, value) << text;
  }
  TempConfig t(with_wait("11m"));
  auto problems = check_config(t.file);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].detail.find("backlog_wait must be between 0s and 10m"), std::string::npos)
      << problems[0].one_line();
  EXPECT_EQ(problems[0].location->line, 5);
}

TEST(Config, StreamingLimitsAreSettingsWithTheirDefaultsAndBounds) {
  {
    TempConfig t(kValid);
    auto c = load_config(t.file);
    ASSERT_TRUE(c.ok()) << c.problem().one_line();
    EXPECT_EQ(c->gateway.max_head_bytes, size_t{1} << 20);
    EXPECT_EQ(c->kafka.backlog_stall, std::chrono::seconds(60));
  }
  {
    TempConfig t(with_stream_limits("131072", "2m"));
    auto c = load_config(t.file);
    ASSERT_TRUE(c.ok()) << c.problem().one_line();
    EXPECT_EQ(c->gateway.max_head_bytes, 131072u);
    EXPECT_EQ(c->kafka.backlog_stall, std::chrono::minutes(2));
  }
  {
    TempConfig t(with_stream_limits("100", "500ms"));
    auto problems = check_config(t.file);
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_NE(problems[0].detail.find("max_head_bytes"), std::string::npos) << problems[0].one_line();
    EXPECT_EQ(problems[0].location->line, 3);
    EXPECT_NE(problems[1].detail.find("backlog_stall must be between 1s and 24h"), std::string::npos)
        << problems[1].one_line();
    EXPECT_EQ(problems[1].location->line, 6);
  }
}
