// Directory files: reader → destination lines checked against the DVDV prefix code
// list, errors as FILE:LINE, ranked as exact readers, and a state-sized directory.
#include "gateway/route/routing_directory.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "gateway/route/prefix_codelist.h"
#include "gateway/route/router.h"
#include "tests/support/files.h"

using namespace xoev;

namespace {

const std::filesystem::path kCodelist = std::filesystem::path(XOEV_SOURCE_DIR) / "schemas/codelists/dvdv.praefix_51.xml";

struct DirectoryTest : testing::Test {
  test::TempDir dir{"xoev-directory-"};
  Config config;

  void SetUp() override {
    for (const char* id : {"standesamt-wiesbaden", "meldewesen-hessen", "catch-all"}) {
      DestinationSection d;
      d.id = id;
      d.topic = std::string("xoev.") + id;
      config.destinations.push_back(d);
    }
    config.routing.prefix_codelist = kCodelist;
  }
  std::filesystem::path file(const std::string& name, const std::string& content) {
    test::write_file(dir.path / name, content);
    config.routing.directory.push_back(dir.path / name);
    return dir.path / name;
  }
  static RoutingHeader header(std::string reader, std::string service = "") {
    RoutingHeader h;
    h.reader = std::move(reader);
    h.service = std::move(service);
    h.standard = "XPersonenstand";
    h.message_type.code = "0100";
    return h;
  }
};

TEST(PrefixCodelist, ReadsTheShippedDvdvListVersion51) {
  auto list = PrefixCodelist::load(kCodelist);
  ASSERT_TRUE(list.ok()) << list.problem().one_line();
  EXPECT_EQ(list->version, "51");
  EXPECT_EQ(list->prefixes.size(), 118u);
  EXPECT_TRUE(list->contains("psw"));
  EXPECT_TRUE(list->contains("ags"));
  EXPECT_FALSE(list->contains("psv"));
  EXPECT_FALSE(list->contains("Meldebehörde")) << "only the praefix column, not the category";
}

TEST_F(DirectoryTest, CsvAndJsonLinesRouteExactReadersAndServices) {
  file("hessen.csv",
       "# Hessen, exported 2026-11-30\n"
       "reader,destination,service,name\n"
       "psw:06414000,standesamt-wiesbaden,,\"Standesamt Wiesbaden, Rathaus\"\n"
       "ags:06414000,meldewesen-hessen,urn:de:dvdv:meld,Meldebehörde\n");
  file("more.jsonl", "{\"reader\": \"psw:06412000\", \"destination\": \"standesamt-wiesbaden\", \"name\": \"Frankfurt\"}\n");
  std::vector<Problem> problems;
  auto directory = RoutingDirectory::load(config, problems);
  ASSERT_TRUE(problems.empty()) << problems.front().one_line();
  EXPECT_EQ(directory->size(), 3u);

  config.routes = {};
  RouteSection catch_all;
  catch_all.name = "catch-all";
  catch_all.destination = "catch-all";
  config.routes.push_back(catch_all);
  Router router(config, directory);
  auto d = router.route(header("psw:06414000"));
  ASSERT_TRUE(d.ok()) << d.problem().one_line();
  EXPECT_EQ(d->destination->id, "standesamt-wiesbaden");
  EXPECT_NE(d->route.find("hessen.csv:3"), std::string::npos) << d->route;
  d = router.route(header("psw:06412000"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->destination->id, "standesamt-wiesbaden");
  d = router.route(header("ags:06414000", "urn:de:dvdv:meld"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->destination->id, "meldewesen-hessen");
  d = router.route(header("ags:06414000", "urn:de:dvdv:other"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->destination->id, "catch-all") << "an entry for one service does not take the others";
  d = router.route(header("psw:01003110"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->destination->id, "catch-all");
}

TEST_F(DirectoryTest, EveryBadLineIsReportedAsFileAndLine) {
  const auto path = file("bad.csv",
                         "reader,destination\n"
                         "psw:06414000,standesamt-wiesbaden\n"
                         "psv:06414000,standesamt-wiesbaden\n"        // 3: prefix not in the code list
                         "psw:06412000,nowhere\n"                     // 4: unknown destination
                         "06412000,standesamt-wiesbaden\n"            // 5: no praefix
                         "psw:06411000,standesamt-wiesbaden,extra\n"  // 6: field count
                         "psw:06414000,meldewesen-hessen\n"           // 7: listed twice, other destination
                         "psw:06414000,standesamt-wiesbaden\n");      // 8: twice, same destination: fine
  std::vector<Problem> problems;
  auto directory = RoutingDirectory::load(config, problems);
  std::vector<int> lines;
  for (const auto& p : problems) {
    EXPECT_EQ(p.location->file, path.string());
    lines.push_back(p.location->line);
  }
  EXPECT_EQ(lines, (std::vector<int>{3, 4, 5, 6, 7})) << (problems.empty() ? "" : problems.front().one_line());
  EXPECT_NE(problems[0].detail.find("'psv' is not in the DVDV prefix code list (version 51)"), std::string::npos)
      << problems[0].detail;
  EXPECT_NE(problems[4].detail.find("bad.csv:2"), std::string::npos) << problems[4].detail;
  EXPECT_EQ(directory->size(), 1u);
}

TEST_F(DirectoryTest, HeaderAndJsonMistakesAreNamed) {
  file("h.csv", "reciever,destination\npsw:06414000,standesamt-wiesbaden\n");
  file("j.jsonl", "{\"reader\": \"psw:06414000\", \"destinaton\": \"x\"}\nnot json\n{\"reader\": 5}\n");
  std::vector<Problem> problems;
  RoutingDirectory::load(config, problems);
  ASSERT_GE(problems.size(), 4u);
  EXPECT_NE(problems[0].detail.find("unknown column 'reciever'"), std::string::npos) << problems[0].detail;
  bool unknown_key = false, not_json = false, not_string = false;
  for (const auto& p : problems) {
    unknown_key |= p.location->line == 1 && p.detail.find("unknown key 'destinaton'") != std::string::npos;
    not_json |= p.location->line == 2 && p.detail.find("not one JSON object") != std::string::npos;
    not_string |= p.location->line == 3 && p.detail.find("must be a string") != std::string::npos;
  }
  EXPECT_TRUE(unknown_key && not_json && not_string);
}

TEST_F(DirectoryTest, ProblemsAreCappedWithACount) {
  std::string csv = "reader,destination\n";
  for (int i = 0; i < 200; ++i) csv += "psv:" + std::to_string(10000000 + i) + ",standesamt-wiesbaden\n";
  file("many.csv", csv);
  std::vector<Problem> problems;
  RoutingDirectory::load(config, problems);
  ASSERT_EQ(problems.size(), RoutingDirectory::kMaxReported + 1);
  EXPECT_NE(problems.back().detail.find("150 more problems"), std::string::npos) << problems.back().detail;
}

TEST_F(DirectoryTest, ARouteForTheSameReaderWithEqualRankIsAConfigError) {
  file("d.csv", "reader,destination\npsw:06414000,standesamt-wiesbaden\n");
  RouteSection r;
  r.name = "hand-written";
  r.match.reader = "psw:06414000";
  r.destination = "meldewesen-hessen";
  config.routes = {r};
  auto router = Router::build(config);
  ASSERT_FALSE(router.ok());
  EXPECT_NE(router.problem().detail.find("route 'hand-written' and directory"), std::string::npos)
      << router.problem().detail;
  config.routes[0].priority = 1;  // now it is a deliberate override
  auto overriding = Router::build(config);
  ASSERT_TRUE(overriding.ok()) << overriding.problem().one_line();
  auto d = (*overriding)->route(header("psw:06414000"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->destination->id, "meldewesen-hessen");
}

// A whole country's worth: 1,000,000 generated authorities load, and every sampled
// reader routes to its own destination.
TEST_F(DirectoryTest, AMillionEntriesLoadAndRoute) {
  std::string csv = "reader,destination\n";
  csv.reserve(40u << 20);
  const char* destinations[] = {"standesamt-wiesbaden", "meldewesen-hessen"};
  char line[64];
  for (int i = 0; i < 1000000; ++i) {
    std::snprintf(line, sizeof line, "psw:%08d,%s\n", i, destinations[i % 2]);
    csv += line;
  }
  file("million.csv", csv);
  std::vector<Problem> problems;
  auto directory = RoutingDirectory::load(config, problems);
  ASSERT_TRUE(problems.empty()) << problems.front().one_line();
  ASSERT_EQ(directory->size(), 1000000u);
  Router router(config, directory);
  for (int i : {0, 1, 4711, 499999, 999998, 999999}) {
    std::snprintf(line, sizeof line, "psw:%08d", i);
    auto d = router.route(header(line));
    ASSERT_TRUE(d.ok()) << line << ": " << d.problem().one_line();
    EXPECT_EQ(d->destination->id, destinations[i % 2]) << line;
  }
  EXPECT_FALSE(router.route(header("psw:1000000")).ok()) << "not in the directory, and no route";
}

}  // namespace
