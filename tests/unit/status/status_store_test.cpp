#include "gateway/status/status_store.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

using namespace xoev;

namespace {
Receipt receipt(ReceiptStatus s, std::string at, std::string detail = "") {
  Receipt r;
  r.message_id = "m1";
  r.destination = "d";
  r.status = s;
  r.at = std::move(at);
  r.detail = std::move(detail);
  return r;
}
}  // namespace

TEST(StatusStore, DeliveredBeforeAcceptedStillEndsDelivered) {
  StatusStore store;
  store.apply(receipt(ReceiptStatus::delivered, "2026-01-01T00:00:03.000Z"));
  store.apply(receipt(ReceiptStatus::accepted, "2026-01-01T00:00:01.000Z"));
  store.apply(receipt(ReceiptStatus::forwarded, "2026-01-01T00:00:02.000Z"));
  auto m = store.get("m1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, ReceiptStatus::delivered);
  ASSERT_EQ(m->history.size(), 3u);
  EXPECT_EQ(m->history.front().first, ReceiptStatus::accepted);
  EXPECT_EQ(m->to_json()["transportStatus"], 0);
}

TEST(StatusStore, ReplayedDeadLetterThatIsDeliveredShowsDelivered) {
  StatusStore store;
  store.apply(receipt(ReceiptStatus::accepted, "2026-01-01T00:00:01.000Z"));
  store.apply(receipt(ReceiptStatus::dead_lettered, "2026-01-01T00:00:05.000Z", "disk full"));
  EXPECT_EQ(store.get("m1")->status, ReceiptStatus::dead_lettered);
  EXPECT_EQ(store.get("m1")->detail, "disk full");
  store.apply(receipt(ReceiptStatus::delivered, "2026-01-01T00:01:00.000Z"));
  EXPECT_EQ(store.get("m1")->status, ReceiptStatus::delivered);
}

TEST(StatusStore, DuplicateReceiptsAreIgnored) {
  StatusStore store;
  store.apply(receipt(ReceiptStatus::accepted, "2026-01-01T00:00:01.000Z"));
  store.apply(receipt(ReceiptStatus::accepted, "2026-01-01T00:00:01.000Z"));
  EXPECT_EQ(store.get("m1")->history.size(), 1u);
}

TEST(StatusStore, BoundedByEvictingOldest) {
  StatusStore store(2);
  for (const char* id : {"a", "b", "c"}) {
    Receipt r = receipt(ReceiptStatus::accepted, "t");
    r.message_id = id;
    store.apply(r);
  }
  EXPECT_EQ(store.size(), 2u);
  EXPECT_FALSE(store.get("a"));
  EXPECT_TRUE(store.get("c"));
}

TEST(Receipt, JsonRoundTripAndRejectsGarbage) {
  Receipt r = receipt(ReceiptStatus::dead_lettered, "2026-01-01T00:00:01.000Z", "x");
  auto back = Receipt::from_json(r.to_json());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->status, ReceiptStatus::dead_lettered);
  EXPECT_EQ(nlohmann::json::parse(r.to_json())["status"], "dead-lettered");
  EXPECT_FALSE(Receipt::from_json("not json").ok());
  EXPECT_FALSE(Receipt::from_json(R"({"messageId":"x","status":"teleported"})").ok());
}

// xoev.receipts may be compacted: only the newest receipt per id survives, and its
// carried history must rebuild the full status.
TEST(StatusStore, LastReceiptAloneRebuildsTheHistory) {
  Receipt last = receipt(ReceiptStatus::delivered, "2026-01-01T00:00:04.000Z", "/inbox/m1.xml");
  last.history = {{ReceiptStatus::accepted, "2026-01-01T00:00:01.000Z"},
                  {ReceiptStatus::forwarded, "2026-01-01T00:00:02.000Z"},
                  {ReceiptStatus::failed, "2026-01-01T00:00:03.000Z"}};
  auto wire = Receipt::from_json(last.to_json());
  ASSERT_TRUE(wire.ok());
  StatusStore store;
  store.apply(*wire);
  auto m = store.get("m1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, ReceiptStatus::delivered);
  EXPECT_EQ(m->detail, "/inbox/m1.xml");
  ASSERT_EQ(m->history.size(), 4u);
  EXPECT_EQ(m->history[0].first, ReceiptStatus::accepted);
  EXPECT_EQ(m->history[2].first, ReceiptStatus::failed);
}

TEST(StatusStore, LateOlderReceiptDoesNotOverwriteTheCurrentDetail) {
  StatusStore store;
  store.apply(receipt(ReceiptStatus::failed, "2026-01-01T00:00:05.000Z", "attempt 2: HTTP 503"));
  store.apply(receipt(ReceiptStatus::failed, "2026-01-01T00:00:03.000Z", "attempt 1: timeout"));
  EXPECT_EQ(store.get("m1")->status, ReceiptStatus::failed);
  EXPECT_EQ(store.get("m1")->detail, "attempt 2: HTTP 503");
}

TEST(StatusStore, SubmitterComesFromTheReceiptAndTheFirstOneStays) {
  // Serialised and read back, as the receipts tracker does after a restart.
  Receipt accepted = receipt(ReceiptStatus::accepted, "2026-01-01T00:00:01.000Z");
  accepted.sender = "dienst-a";
  auto read_back = Receipt::from_json(accepted.to_json());
  ASSERT_TRUE(read_back);
  EXPECT_EQ(read_back->sender, "dienst-a");
  EXPECT_EQ(nlohmann::json::parse(receipt(ReceiptStatus::accepted, "t").to_json()).count("sender"), 0u)
      << "anonymous receipts stay as they were";
  StatusStore store;
  store.apply(*read_back);
  Receipt later = receipt(ReceiptStatus::delivered, "2026-01-01T00:00:02.000Z");
  store.apply(later);  // a deliverer's receipt names no sender
  later.sender = "dienst-b";
  later.at = "2026-01-01T00:00:03.000Z";
  store.apply(later);  // nor may a later one change it
  EXPECT_EQ(store.get("m1")->sender, "dienst-a");
  EXPECT_EQ(store.get("m1")->to_json().count("sender"), 0u);
}
