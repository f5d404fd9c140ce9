#include "gateway/delivery/delivered_ledger.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include "tests/support/files.h"

using namespace xoev;
namespace fs = std::filesystem;

namespace {

using xoev::test::TempDir;
}  // namespace

TEST(DeliveredLedger, SurvivesReopening) {
  TempDir dir;
  const auto file = dir.path / "d.delivered";
  {
    auto l = DeliveredLedger::open(file, std::chrono::hours(24));
    ASSERT_TRUE(l.ok()) << l.problem().one_line();
    EXPECT_FALSE((*l)->contains("a"));
    ASSERT_TRUE((*l)->record("a").ok());
    ASSERT_TRUE((*l)->record("a").ok());
    ASSERT_TRUE((*l)->record("b").ok());
  }
  auto again = DeliveredLedger::open(file, std::chrono::hours(24));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->contains("a"));
  EXPECT_TRUE((*again)->contains("b"));
  EXPECT_EQ((*again)->size(), 2u);
}

TEST(DeliveredLedger, ForgetsEntriesOlderThanTheWindow) {
  TempDir dir;
  fs::create_directories(dir.path);
  const auto file = dir.path / "d.delivered";
  std::ofstream(file) << "1000 ancient\n" << (std::time(nullptr) - 10) << " recent\n";
  auto l = DeliveredLedger::open(file, std::chrono::hours(1));
  ASSERT_TRUE(l.ok());
  EXPECT_FALSE((*l)->contains("ancient"));
  EXPECT_TRUE((*l)->contains("recent"));
}

TEST(DeliveredLedger, SecondWriterIsRefused) {
  TempDir dir;
  const auto file = dir.path / "d.delivered";
  auto first = DeliveredLedger::open(file, std::chrono::hours(1));
  ASSERT_TRUE(first.ok());
  auto second = DeliveredLedger::open(file, std::chrono::hours(1));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.problem().detail.find("in use"), std::string::npos);
}
