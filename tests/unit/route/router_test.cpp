#include "gateway/route/router.h"

#include <gtest/gtest.h>

#include "gateway/route/region.h"

using namespace xoev;

namespace {

Config two_destinations() {
  Config c;
  for (const char* id : {"a", "b"}) {
    DestinationSection d;
    d.id = id;
    d.topic = std::string("xoev.") + id;
    c.destinations.push_back(d);
  }
  return c;
}

RouteSection route(std::string name, std::string reader, std::string dest, std::string type = "*") {
  RouteSection r;
  r.name = std::move(name);
  r.match.reader = std::move(reader);
  r.match.message_type = std::move(type);
  r.destination = std::move(dest);
  return r;
}

RouteSection route_on(std::string name, std::string dest, RouteMatch match, int priority = 0) {
  RouteSection r;
  r.name = std::move(name);
  r.match = std::move(match);
  r.destination = std::move(dest);
  r.priority = priority;
  return r;
}

RoutingHeader header(std::string reader, std::string code = "0401", std::string name = "x.0401") {
  RoutingHeader h;
  h.reader = std::move(reader);
  h.message_type.code = std::move(code);
  h.message_type.name = std::move(name);
  h.standard = "XBeteiligung";
  return h;
}

}  // namespace

TEST(Router, MostSpecificReaderWins) {
  Config c = two_destinations();
  c.routes = {route("all-psw", "psw:*", "a"), route("wiesbaden", "psw:06414*", "b")};
  Router r(c);
  auto d = r.route(header("psw:06414000"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->destination->id, "b");
  d = r.route(header("psw:01003110"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->destination->id, "a");
}

TEST(Router, NoMatchIsNoRoute) {
  Config c = two_destinations();
  c.routes = {route("psw", "psw:*", "a")};
  auto d = Router(c).route(header("xyz:0002"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.problem().kind, ProblemKind::no_route);
  EXPECT_EQ(d.problem().http_status(), 422);
}

TEST(Router, EqualRanksToDifferentDestinationsAreAmbiguous) {
  Config c = two_destinations();
  c.routes = {route("one", "xyz:*", "a", "04*"), route("two", "xyz:*", "b", "04*")};
  auto d = Router(c).route(header("xyz:0002"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.problem().kind, ProblemKind::ambiguous_route);
  EXPECT_EQ(d.problem().http_status(), 422);
  EXPECT_NE(d.problem().detail.find("'one'"), std::string::npos) << d.problem().detail;
  EXPECT_NE(d.problem().detail.find("'two'"), std::string::npos) << d.problem().detail;
}

TEST(Router, PriorityBreaksOnlyRemainingTies) {
  Config c = two_destinations();
  c.routes = {route("one", "xyz:*", "a", "04*"), route("two", "xyz:*", "b", "04*")};
  c.routes[0].priority = 1;
  auto d = Router(c).route(header("xyz:0002"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->destination->id, "a");
  // A priority never lifts a route above a more specific reader.
  c.routes = {route("urgent", "*", "a"), route("plain", "xyz:0002", "b")};
  c.routes[0].priority = 1000;
  d = Router(c).route(header("xyz:0002"));
  ASSERT_TRUE(d.ok()) << d.problem().one_line();
  EXPECT_EQ(d->destination->id, "b");
}

// The precedence table of the README, one row per line: the route named first must
// beat the second for a message both match, whatever their order in the config.
TEST(Router, PrecedenceTable) {
  struct Row {
    const char* why;
    RouteMatch winner;
    RouteMatch loser;
  };
  RouteMatch any;
  auto m = [](std::initializer_list<std::pair<const char*, const char*>> fields) {
    RouteMatch r;
    for (const auto& [k, v] : fields) {
      const std::string key = k;
      if (key == "reader") r.reader = v;
      else if (key == "region") r.region = v;
      else if (key == "service") r.service = v;
      else if (key == "message_type") r.message_type = v;
      else if (key == "standard") r.standard = v;
      else if (key == "author") r.author = v;
    }
    return r;
  };
  const std::vector<Row> table = {
      {"exact reader beats a longer standard (the old bug)", m({{"reader", "psw:06414000"}}), m({{"standard", "XBeteiligung"}})},
      {"exact reader beats reader glob", m({{"reader", "psw:06414000"}}), m({{"reader", "psw:0641400?"}, {"standard", "XBeteiligung"}})},
      {"longer reader glob beats shorter", m({{"reader", "psw:0641*"}}), m({{"reader", "psw:*"}, {"message_type", "0401"}})},
      {"reader glob beats region", m({{"reader", "psw:*"}}), m({{"region", "06414000"}, {"service", "svc-1"}})},
      {"Gemeinde beats Kreis", m({{"region", "06414000"}}), m({{"region", "06414"}, {"message_type", "0401"}})},
      {"Kreis beats Regierungsbezirk", m({{"region", "06414"}}), m({{"region", "064"}})},
      {"Regierungsbezirk beats Land", m({{"region", "064"}}), m({{"region", "06"}, {"standard", "XBeteiligung"}})},
      {"Land beats service", m({{"region", "06"}}), m({{"service", "svc-1"}, {"message_type", "0401"}})},
      {"service beats message type", m({{"service", "svc-1"}}), m({{"message_type", "0401"}, {"standard", "XBeteiligung"}})},
      {"message type beats standard", m({{"message_type", "0401"}}), m({{"standard", "XBeteiligung"}, {"author", "xyz:1"}})},
      {"exact message type beats its glob", m({{"message_type", "0401"}}), m({{"message_type", "04*"}})},
      {"standard beats author", m({{"standard", "XBeteiligung"}}), m({{"author", "xyz:1"}})},
      {"author beats catch-all", m({{"author", "xyz:1"}}), any},
  };
  RoutingHeader h = header("psw:06414000");
  h.service = "svc-1";
  h.author = "xyz:1";
  for (const auto& row : table) {
    for (bool winner_first : {true, false}) {
      Config c = two_destinations();
      auto win = route_on("winner", "a", row.winner);
      auto lose = route_on("loser", "b", row.loser);
      c.routes = winner_first ? std::vector<RouteSection>{win, lose} : std::vector<RouteSection>{lose, win};
      auto d = Router(c).route(h);
      ASSERT_TRUE(d.ok()) << row.why << ": " << d.problem().one_line();
      EXPECT_EQ(d->route, "winner") << row.why;
    }
  }
}

TEST(Router, MessageTypeMatchesValidatedCodeOrNameNeverTheLabel) {
  Config c = two_destinations();
  c.routes = {route("by-name", "*", "a", "*.BeteiligungNeu.*")};
  EXPECT_TRUE(Router(c).route(header("xyz:1", "0401", "planung2Beteiligung.BeteiligungNeu.0401")).ok());
  c.routes = {route("by-code", "*", "a", "0401")};
  EXPECT_TRUE(Router(c).route(header("xyz:1", "0401", "")).ok());
  EXPECT_FALSE(Router(c).route(header("xyz:1", "0402", "")).ok());
  c.routes = {route("by-label", "*", "a", "2010")};
  RoutingHeader h = header("xyz:1", "0020", "");
  h.message_type.label = "2010";
  EXPECT_FALSE(Router(c).route(h).ok()) << "a sender's free-text name must not route";
}

TEST(Router, RegionComesFromReadersWhosePrefixCarriesOne) {
  const std::vector<std::string> prefixes{"ags", "psw", "leitweg"};
  EXPECT_EQ(region_of("psw:06414000", prefixes), "06414000");
  EXPECT_EQ(region_of("ags:064140000000", prefixes), "064140000000");
  EXPECT_EQ(region_of("leitweg:04011000-12345-34", prefixes), "04011000");
  EXPECT_EQ(region_of("xyz:06414000", prefixes), "") << "xyz carries no region";
  EXPECT_EQ(region_of("psw:abc", prefixes), "");
  EXPECT_EQ(region_of("psw:0641400", prefixes), "") << "7 digits are no key of any level";
  EXPECT_EQ(region_of("psw:06414000", {"ags"}), "") << "the prefix list is configuration";

  Config c = two_destinations();
  c.routes = {route_on("hessen", "a", [] {
    RouteMatch m;
    m.region = "06*";  // the older glob form still means Land 06
    return m;
  }())};
  EXPECT_TRUE(Router(c).route(header("psw:06414000")).ok());
  EXPECT_FALSE(Router(c).route(header("psw:01003110")).ok());
  EXPECT_FALSE(Router(c).route(header("xyz:06414000")).ok()) << "a reader without region matches no region rule";
  c.routing.region_prefixes = {"xyz"};
  EXPECT_TRUE(Router(c).route(header("xyz:06414000")).ok());
}

// AGS (8 digits) and ARS (12) name the same Gemeinde differently: Wiesbaden is AGS
// 06414000 and ARS 064140000000. Levels only the ARS has match only an ARS.
TEST(Router, RegionHierarchyTable) {
  struct Row {
    const char* rule;
    const char* region;
    bool matches;
  };
  const std::vector<Row> table = {
      {"06", "06414000", true},           {"06", "064140000000", true},        {"07", "06414000", false},
      {"064", "06414000", true},          {"06414", "064140000000", true},     {"06412", "06414000", false},
      {"06414000", "06414000", true},     {"06414000", "064140000000", true},  {"06414000", "064140000001", false},
      {"06435014", "064350014014", true},  // AGS of an ARS: first five and last three digits
      {"064350014", "064350014014", true}, {"064350014", "06435014", false},    {"064350014014", "064350014014", true},
      {"064350014014", "06435014", false}, {"*", "", true},                     {"06", "", false},
  };
  for (const auto& row : table)
    EXPECT_EQ(region_matches(row.rule, row.region), row.matches) << row.rule << " vs " << row.region;
  EXPECT_LT(region_level("06"), region_level("064"));
  EXPECT_LT(region_level("064"), region_level("06414"));
  EXPECT_LT(region_level("06414"), region_level("064350014"));
  EXPECT_LT(region_level("064350014"), region_level("06414000"));
  EXPECT_EQ(region_level("06414000"), region_level("064140000000"));
}

TEST(Router, ExplainSaysWhyARouteDidNotMatch) {
  Config c = two_destinations();
  c.routes = {route("psw", "psw:*", "a")};
  auto candidates = Router(c).explain(header("xyz:0002"));
  ASSERT_EQ(candidates.size(), 1u);
  EXPECT_FALSE(candidates[0].matched);
  EXPECT_NE(candidates[0].mismatch.find("reader 'xyz:0002'"), std::string::npos);
  EXPECT_EQ(describe(candidates[0].rank), "reader glob");
}

// A tie seen earlier must not survive a later, better route: "one" and "two" tie,
// then "three" beats both and alone decides. Order matters, so both orders.
TEST(Router, BetterRouteClearsAnEarlierTie) {
  Config c = two_destinations();
  c.routes = {route("one", "xyz:*", "a"), route("two", "xyz:*", "b"), route("three", "xyz:00*", "a")};
  auto d = Router(c).route(header("xyz:0002"));
  ASSERT_TRUE(d.ok()) << d.problem().one_line();
  EXPECT_EQ(d->route, "three");
  EXPECT_EQ(d->destination->id, "a");

  c.routes = {route("one", "xyz:*", "a"), route("two", "xyz:*", "b"), route("urgent", "xyz:*", "b")};
  c.routes[2].priority = 5;
  d = Router(c).route(header("xyz:0002"));
  ASSERT_TRUE(d.ok()) << d.problem().one_line();
  EXPECT_EQ(d->route, "urgent");
}

// A tie with the best so far counts only when it comes from a route as good as the
// best: a weaker later route to another destination is no tie.
TEST(Router, WeakerRouteToAnotherDestinationIsNoTie) {
  Config c = two_destinations();
  c.routes = {route("specific", "xyz:00*", "a"), route("broad", "xyz:*", "b")};
  auto d = Router(c).route(header("xyz:0002"));
  ASSERT_TRUE(d.ok()) << d.problem().one_line();
  EXPECT_EQ(d->destination->id, "a");
  c.routes = {route("urgent", "xyz:*", "a"), route("plain", "xyz:*", "b")};
  c.routes[0].priority = 1;
  d = Router(c).route(header("xyz:0002"));
  ASSERT_TRUE(d.ok()) << d.problem().one_line();
  EXPECT_EQ(d->destination->id, "a");
}

// Equal best matches to the same destination are not ambiguous.
TEST(Router, EqualMatchesToOneDestinationAreNoTie) {
  Config c = two_destinations();
  c.routes = {route("one", "xyz:*", "a"), route("two", "xyz:*", "a")};
  auto d = Router(c).route(header("xyz:0002"));
  ASSERT_TRUE(d.ok()) << d.problem().one_line();
  EXPECT_EQ(d->destination->id, "a");
}
