#include "gateway/route/router.h"

#include <gtest/gtest.h>

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

TEST(Router, EqualMatchesToDifferentDestinationsAreAmbiguous) {
  Config c = two_destinations();
  c.routes = {route("one", "xyz:*", "a", "04*"), route("two", "xyz:00*", "b")};
  auto d = Router(c).route(header("xyz:0002"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.problem().kind, ProblemKind::ambiguous_route);
}

TEST(Router, PriorityBreaksTies) {
  Config c = two_destinations();
  c.routes = {route("one", "xyz:*", "a", "04*"), route("two", "xyz:00*", "b")};
  c.routes[0].priority = 1;
  auto d = Router(c).route(header("xyz:0002"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->destination->id, "a");
}

TEST(Router, MessageTypeMatchesCodeOrName) {
  Config c = two_destinations();
  c.routes = {route("by-name", "*", "a", "*.BeteiligungNeu.*")};
  EXPECT_TRUE(Router(c).route(header("xyz:1", "0401", "planung2Beteiligung.BeteiligungNeu.0401")).ok());
  c.routes = {route("by-code", "*", "a", "0401")};
  EXPECT_TRUE(Router(c).route(header("xyz:1", "0401", "")).ok());
  EXPECT_FALSE(Router(c).route(header("xyz:1", "0402", "")).ok());
}

TEST(Router, RegionIsTheLeadingDigitsOfTheKennung) {
  EXPECT_EQ(Router::region_of("psw:06414000"), "06414000");
  EXPECT_EQ(Router::region_of("leitweg:04011000-12345-34"), "04011000");
  EXPECT_EQ(Router::region_of("xyz:abc"), "");
  Config c = two_destinations();
  RouteSection hessen = route("hessen", "*", "a");
  hessen.match.region = "06*";
  c.routes = {hessen};
  EXPECT_TRUE(Router(c).route(header("psw:06414000")).ok());
  EXPECT_FALSE(Router(c).route(header("psw:01003110")).ok());
}

TEST(Router, ExplainSaysWhyARouteDidNotMatch) {
  Config c = two_destinations();
  c.routes = {route("psw", "psw:*", "a")};
  auto candidates = Router(c).explain(header("xyz:0002"));
  ASSERT_EQ(candidates.size(), 1u);
  EXPECT_FALSE(candidates[0].matched);
  EXPECT_NE(candidates[0].mismatch.find("reader 'xyz:0002'"), std::string::npos);
}

// A tie seen earlier must not survive a later, better route: "one" and "two" tie,
// then "three" beats both and alone decides. Order matters, so both orders.
TEST(Router, BetterRouteClearsAnEarlierTie) {
  Config c = two_destinations();
  c.routes = {route("one", "xyz:*", "a"), route("two", "xyz:*", "b"), route("three", "xyz:00*", "a")};
  auto d = Router(c).route(header("xyz:0002"));
  ASSERT_TRUE(d.ok()) << d.problem().one_line();
  EXPECT_EQ(d->route->name, "three");
  EXPECT_EQ(d->destination->id, "a");

  c.routes = {route("one", "xyz:*", "a"), route("two", "xyz:*", "b"), route("urgent", "*", "b")};
  c.routes[2].priority = 5;
  d = Router(c).route(header("xyz:0002"));
  ASSERT_TRUE(d.ok()) << d.problem().one_line();
  EXPECT_EQ(d->route->name, "urgent");
}

// A tie with the best so far counts only when it comes from a route as good as the
// best: a weaker later route to another destination is no tie.
TEST(Router, WeakerRouteToAnotherDestinationIsNoTie) {
  Config c = two_destinations();
  c.routes = {route("specific", "xyz:00*", "a"), route("broad", "xyz:*", "b")};
  auto d = Router(c).route(header("xyz:0002"));
  ASSERT_TRUE(d.ok()) << d.problem().one_line();
  EXPECT_EQ(d->destination->id, "a");
  c.routes = {route("urgent", "*", "a"), route("plain", "xyz:0002", "b")};
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
