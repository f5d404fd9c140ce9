// The registry of receipts this process signed: remembered only once a tracker wants
// them, found by exact key and value, once, and bounded.
#include "gateway/status/own_receipts.h"

#include <gtest/gtest.h>

#include <string>

namespace xoev {
namespace {

OwnReceipts::Signer signer() {
  static const auto key = std::make_shared<const crypto::Jwk>(
      crypto::Jwk::generate(crypto::Jwk::Type::ec_p256, "deliverer-1", "ES256").value().public_key());
  return key;
}

TEST(OwnReceipts, NothingIsRememberedUntilSomeoneReadsReceiptsBack) {
  OwnReceipts registry;
  registry.remember("m1", "{\"status\":\"delivered\"}", signer());
  EXPECT_EQ(registry.take("m1", "{\"status\":\"delivered\"}"), nullptr);
}

TEST(OwnReceipts, ExactlyTheBytesSignedAreFoundAndOnlyOnce) {
  OwnReceipts registry;
  registry.start_remembering();
  registry.remember("m1", "{\"status\":\"delivered\"}", signer());
  EXPECT_EQ(registry.take("m1", "{\"status\":\"rejected\"}"), nullptr);
  EXPECT_EQ(registry.take("m2", "{\"status\":\"delivered\"}"), nullptr);
  // Key and value are not simply concatenated: moving a byte across does not match.
  EXPECT_EQ(registry.take("m1{", "\"status\":\"delivered\"}"), nullptr);
  EXPECT_EQ(registry.take("m1", "{\"status\":\"delivered\"}"), signer());
  EXPECT_EQ(registry.take("m1", "{\"status\":\"delivered\"}"), nullptr);
}

TEST(OwnReceipts, OnlyTheNewestAreKept) {
  OwnReceipts registry;
  registry.start_remembering();
  for (size_t i = 0; i <= OwnReceipts::kCapacity; ++i) registry.remember("m" + std::to_string(i), "v", signer());
  EXPECT_EQ(registry.take("m0", "v"), nullptr);
  EXPECT_EQ(registry.take("m1", "v"), signer());
  EXPECT_EQ(registry.take("m" + std::to_string(OwnReceipts::kCapacity), "v"), signer());
}

}  // namespace
}  // namespace xoev
