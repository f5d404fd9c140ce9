// The routing table's version: "<generation>-<fingerprint>", the fingerprint a hash of
// everything that decides a route and of nothing else.
#include "gateway/route/routing_version.h"

#include <gtest/gtest.h>

#include <regex>

#include "gateway/route/router.h"
#include "tests/support/files.h"

using namespace xoev;

namespace {

const std::filesystem::path kCodelist = std::filesystem::path(XOEV_SOURCE_DIR) / "schemas/codelists/dvdv.praefix_51.xml";

struct RoutingVersionTest : testing::Test {
  test::TempDir dir{"xoev-routing-version-"};
  Config config;

  void SetUp() override {
    for (const char* id : {"a", "b"}) {
      DestinationSection d;
      d.id = id;
      d.topic = std::string("xoev.") + id;
      d.adapter.type = "file";
      config.destinations.push_back(d);
    }
    RouteSection r;
    r.name = "psw";
    r.match.reader = "psw:*";
    r.destination = "a";
    config.routes.push_back(r);
    config.routing.prefix_codelist = kCodelist;
  }
  void directory(const std::string& content) {
    test::write_file(dir.path / "dir.csv", content);
    config.routing.directory = {dir.path / "dir.csv"};
  }
  std::string fingerprint() const {
    std::vector<Problem> problems;
    auto loaded = RoutingDirectory::load(config, problems);
    EXPECT_TRUE(problems.empty()) << problems.front().one_line();
    return routing_fingerprint(config, *loaded);
  }
};

TEST_F(RoutingVersionTest, IsGenerationAndEightHexDigits) {
  const std::string v = routing_version(7, fingerprint());
  EXPECT_TRUE(std::regex_match(v, std::regex("7-[0-9a-f]{8}"))) << v;
}

TEST_F(RoutingVersionTest, SameTableSameFingerprint) {
  directory("reader,destination\npsw:06414000,b\n");
  const auto first = fingerprint();
  EXPECT_EQ(first, fingerprint());
  // What does not route does not count: a log level, a comment, a listen address.
  config.gateway.listen = "127.0.0.1:9999";
  config.log.level = "debug";
  directory("reader,destination\n# Wiesbaden\npsw:06414000,b\n");
  EXPECT_EQ(first, fingerprint());
}

TEST_F(RoutingVersionTest, EveryRoutingFieldChangesIt) {
  const auto base = fingerprint();
  auto changed = [&](auto edit) {
    Config saved = config;
    edit(config);
    const auto f = fingerprint();
    config = saved;
    return f != base;
  };
  EXPECT_TRUE(changed([](Config& c) { c.routes[0].destination = "b"; }));
  EXPECT_TRUE(changed([](Config& c) { c.routes[0].priority = 5; }));
  EXPECT_TRUE(changed([](Config& c) { c.routes[0].name = "renamed"; }));
  EXPECT_TRUE(changed([](Config& c) { c.routes[0].match.reader = "psw:0641*"; }));
  EXPECT_TRUE(changed([](Config& c) { c.routes[0].match.region = "06"; }));
  EXPECT_TRUE(changed([](Config& c) { c.routes[0].match.service = "urn:x"; }));
  EXPECT_TRUE(changed([](Config& c) { c.routes[0].match.message_type = "0401"; }));
  EXPECT_TRUE(changed([](Config& c) { c.routes[0].match.standard = "XWasser"; }));
  EXPECT_TRUE(changed([](Config& c) { c.routes[0].match.author = "xyz:1"; }));
  EXPECT_TRUE(changed([](Config& c) { c.destinations[1].topic = "xoev.other"; }));
  EXPECT_TRUE(changed([](Config& c) { c.routing.region_prefixes = {"ags"}; }));
  EXPECT_TRUE(changed([](Config& c) { std::swap(c.routes[0].match.reader, c.routes[0].match.author); }));
}

TEST_F(RoutingVersionTest, DirectoryEntriesChangeIt) {
  directory("reader,destination\npsw:06414000,b\n");
  const auto one = fingerprint();
  directory("reader,destination\npsw:06414000,a\n");
  EXPECT_NE(one, fingerprint()) << "an entry moved to another destination";
  directory("reader,destination\npsw:06414000,b\npsw:06412000,b\n");
  EXPECT_NE(one, fingerprint()) << "an entry added";
}

}  // namespace
