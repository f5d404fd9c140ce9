// Which receipts the callback dispatcher looks at closely: only those of a route with a
// callback are verified (an ECDSA check each); the rest are passed over unread.
#include <gtest/gtest.h>

#include "gateway/callbacks/callback_dispatcher.h"

namespace xoev {
namespace {

Config config_with_routes(bool with_callback) {
  Config c;
  RouteSection quiet;
  quiet.name = "geburten";
  RouteSection told;
  told.name = "bauantraege";
  if (with_callback) told.callback_url = "https://portal.example/callbacks";
  c.routes = {quiet, told};
  return c;
}

std::string receipt_of_route(const std::string& route) {
  Receipt r;
  r.message_id = "m-1";
  r.destination = "d";
  r.status = ReceiptStatus::delivered;
  r.at = "2026-12-01T00:00:00Z";
  r.route = route;
  return r.to_json();
}

TEST(CallbackFilter, OnlyReceiptsOfARouteWithACallbackAreLookedAtClosely) {
  const Config c = config_with_routes(true);
  EXPECT_TRUE(may_call_back(c, receipt_of_route("bauantraege")));
  EXPECT_FALSE(may_call_back(c, receipt_of_route("geburten")));
  EXPECT_FALSE(may_call_back(c, receipt_of_route("")));
  EXPECT_FALSE(may_call_back(c, receipt_of_route("no-such-route")));
  // What does not parse goes to verification, which says what is wrong with it.
  EXPECT_TRUE(may_call_back(c, "{not json"));
}

TEST(CallbackFilter, WithoutAnyCallbackNoReceiptIsLookedAt) {
  const Config c = config_with_routes(false);
  EXPECT_FALSE(may_call_back(c, receipt_of_route("bauantraege")));
  EXPECT_FALSE(may_call_back(c, "{not json"));
}

}  // namespace
}  // namespace xoev
