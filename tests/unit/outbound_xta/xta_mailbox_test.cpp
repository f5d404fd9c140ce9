#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "adapters/outbound/xta/xta_mailbox.h"
#include "gateway/core/xml_document.h"
#include "tests/support/files.h"

namespace fs = std::filesystem;
using namespace xoev;
using namespace xoev::xta;

namespace {

using xoev::test::TempDir;

DeliveredMessage message(const std::string& id, std::string body = "<a:x xmlns:a=\"urn:test:a\">1</a:x>") {
  DeliveredMessage m;
  m.message_id = id;
  m.destination = "dest";
  m.message_type = "0401";
  m.standard = "xbeteiligung";
  m.sender = "psw:01000000";
  m.recipient = "psw:02000000";
  m.accepted_at = "2026-11-28T10:00:00.123Z";
  m.body = std::move(body);
  return m;
}

std::unique_ptr<Mailbox> open_box(const fs::path& dir) {
  auto box = Mailbox::open(dir);
  EXPECT_TRUE(box.ok()) << (box.ok() ? "" : box.problem().one_line());
  return std::move(box).value();
}

size_t files_in(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& f : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST(XtaMailbox, StoresOnceAndKeepsExactBytesAndMetadata) {
  TempDir t;
  auto box = open_box(t.path);
  const std::string body = std::string("<a:x xmlns:a=\"urn:test:a\">\xC3\xA4\r\n\0tail</a:x>", 36);
  auto first = box->store(message("m-1", body));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, StoreOutcome::stored);
  auto second = box->store(message("m-1", "<other/>"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, StoreOutcome::already_present);

  auto got = box->get("m-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->body, body);  // the first bytes, not the repeated delivery's
  EXPECT_EQ(got->entry.message_id, "m-1");
  EXPECT_EQ(got->entry.message_type, "0401");
  EXPECT_EQ(got->entry.standard, "xbeteiligung");
  EXPECT_EQ(got->entry.sender, "psw:01000000");
  EXPECT_EQ(got->entry.recipient, "psw:02000000");
  EXPECT_EQ(got->entry.accepted_at, "2026-11-28T10:00:00.123Z");
  EXPECT_EQ(got->entry.size, body.size());
  EXPECT_FALSE(got->entry.stored_at.empty());
  auto pending = box->pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(files_in(t.path / "pending"), 1u);  // no temporary files left behind
}

TEST(XtaMailbox, RecordsThePayloadNamespace) {
  TempDir t;
  auto box = open_box(t.path);
  ASSERT_TRUE(box->store(message("ns-1")).ok());
  ASSERT_TRUE(box->store(message("ns-2", "not xml")).ok());
  EXPECT_EQ(box->get("ns-1")->entry.payload_namespace, "urn:test:a");
  EXPECT_EQ(box->get("ns-2")->entry.payload_namespace, "");
}

// The mailbox reads each message's namespace with libxml2's reader on a deliverer's
// thread; libxml2's lazy set-up races between threads (two first deliveries leaked its
// encoding table under LeakSanitizer), so the mailbox sets it up once before reading.
// ctest runs each test in its own process, where nothing else has set it up yet.
TEST(XtaMailbox, SetsUpLibxml2BeforeItsFirstRead) {
  if (xml_global_init_done()) GTEST_SKIP() << "libxml2 was set up by an earlier test in this process";
  TempDir t;
  auto box = open_box(t.path);
  ASSERT_TRUE(box->store(message("init-1")).ok());
  EXPECT_TRUE(xml_global_init_done());
  EXPECT_EQ(box->get("init-1")->entry.payload_namespace, "urn:test:a");
}

TEST(XtaMailbox, ANewMailboxOnTheSameDirectorySeesWhatWasPendingAndClosed) {
  TempDir t;
  {
    auto box = open_box(t.path);
    ASSERT_TRUE(box->store(message("r-1")).ok());
    ASSERT_TRUE(box->store(message("r-2")).ok());
    ASSERT_TRUE(box->store(message("r-3")).ok());
    ASSERT_TRUE(box->close("r-2").ok());
  }
  auto reopened = open_box(t.path);
  auto pending = reopened->pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].message_id, "r-1");  // oldest first
  EXPECT_EQ((*pending)[1].message_id, "r-3");
  // The closed one stays closed across the restart, also when it is delivered again.
  EXPECT_EQ(*reopened->store(message("r-2")), StoreOutcome::already_present);
  EXPECT_EQ(reopened->pending()->size(), 2u);
  EXPECT_EQ(*reopened->close("r-2"), CloseOutcome::already_closed);
}

TEST(XtaMailbox, CloseTwiceIsHarmlessAndUnknownIsNotFound) {
  TempDir t;
  auto box = open_box(t.path);
  ASSERT_TRUE(box->store(message("c-1")).ok());
  auto first = box->close("c-1");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, CloseOutcome::closed);
  auto second = box->close("c-1");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, CloseOutcome::already_closed);
  EXPECT_TRUE(box->pending()->empty());
  EXPECT_TRUE(fs::exists(t.path / "closed" / "c-1.msg"));

  auto unknown = box->close("never-stored");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.problem().kind, ProblemKind::not_found);
  auto closed_get = box->get("c-1");
  ASSERT_FALSE(closed_get.ok());
  EXPECT_EQ(closed_get.problem().kind, ProblemKind::not_found);
}

TEST(XtaMailbox, HostileIdsStayInsideTheMailboxAndDistinct) {
  TempDir t;
  auto box = open_box(t.path / "box");
  ASSERT_TRUE(box->store(message("../../escape")).ok());
  ASSERT_TRUE(box->store(message("..%2F..%2Fescape")).ok());  // the encoded form of the first is another id
  ASSERT_TRUE(box->store(message(".hidden")).ok());
  EXPECT_EQ(files_in(t.path), 1u);  // only box/
  EXPECT_EQ(box->pending()->size(), 3u);
  EXPECT_EQ(box->get("../../escape")->entry.message_id, "../../escape");

  auto empty = box->store(message(""));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.problem().kind, ProblemKind::bad_request);
  auto too_long = box->store(message(std::string(300, 'x')));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.problem().kind, ProblemKind::bad_request);
}

TEST(XtaMailbox, ConcurrentDeliveriesOfOneIdStoreItOnce) {
  TempDir t;
  auto box = open_box(t.path);
  auto other = open_box(t.path);  // a second object, as after a restart racing an old process
  std::atomic<int> stored{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      auto r = (i % 2 ? box : other)->store(message("race"));
      if (r.ok() && *r == StoreOutcome::stored) ++stored;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(stored.load(), 1);
  EXPECT_EQ(files_in(t.path / "pending"), 1u);
}

TEST(XtaMailbox, ABrokenDirectoryIsAnIoError) {
  TempDir t;
  auto box = open_box(t.path);
  // pending/ replaced by a file: works as root too, where permissions would not stop writes.
  fs::remove_all(t.path / "pending");
  { std::ofstream(t.path / "pending") << "x"; }
  auto r = box->store(message("w-1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problem().kind, ProblemKind::io_error);
  EXPECT_FALSE(box->pending().ok());
}
