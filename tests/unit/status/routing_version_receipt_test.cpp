// The routing version a receipt records: carried in JSON as "routingVersion", optional
// (receipts written before it existed still parse), kept by the status store although
// later receipts (the deliverer's) do not repeat it, and shown by GET /v1/messages/{id}.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "gateway/status/status_store.h"

using namespace xoev;

TEST(ReceiptRoutingVersion, RoundTripsAsRoutingVersion) {
  Receipt r;
  r.message_id = "m1";
  r.destination = "a";
  r.at = "2026-01-01T00:00:01.000Z";
  r.routing_version = "7-3fa9c2e1";
  const auto json = nlohmann::json::parse(r.to_json());
  EXPECT_EQ(json.at("routingVersion"), "7-3fa9c2e1");
  auto back = Receipt::from_json(r.to_json());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->routing_version, "7-3fa9c2e1");
}

TEST(ReceiptRoutingVersion, OlderReceiptsWithoutItStillParseAndWriteNone) {
  auto old = Receipt::from_json(R"({"messageId":"m1","destination":"a","status":"delivered","at":"t","detail":""})");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->routing_version, "");
  EXPECT_FALSE(nlohmann::json::parse(old->to_json()).contains("routingVersion"));
}

TEST(ReceiptRoutingVersion, StatusKeepsTheAcceptedReceiptsVersion) {
  StatusStore store;
  Receipt accepted;
  accepted.message_id = "m1";
  accepted.destination = "a";
  accepted.at = "2026-01-01T00:00:01.000Z";
  accepted.routing_version = "2-0badf00d";
  Receipt delivered = accepted;
  delivered.status = ReceiptStatus::delivered;
  delivered.at = "2026-01-01T00:00:02.000Z";
  delivered.routing_version.clear();  // the deliverer does not know it
  store.apply(accepted);
  store.apply(delivered);
  auto m = store.get("m1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, ReceiptStatus::delivered);
  EXPECT_EQ(m->to_json().at("routingVersion"), "2-0badf00d");

  StatusStore unknown;
  unknown.apply(delivered);
  EXPECT_FALSE(unknown.get("m1")->to_json().contains("routingVersion"));
}
