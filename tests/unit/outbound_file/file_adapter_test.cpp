#include "adapters/outbound/file/file_adapter.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/files.h"

using namespace xoev;

namespace {

using xoev::test::TempDir;

DeliveredMessage message(std::string id, std::string body) {
  DeliveredMessage m;
  m.message_id = std::move(id);
  m.destination = "d";
  m.body = std::move(body);
  return m;
}

// Runs one delivery on a thread that dropped CAP_DAC_OVERRIDE and
// CAP_DAC_READ_SEARCH from its effective set: Linux capabilities are per thread,
// so root sees file permissions there and the rest of the process is untouched.
DeliveryOutcome deliver_without_permission_override(OutboundAdapter& adapter, const DeliveredMessage& m) {
  DeliveryOutcome out = Delivered{"capabilities could not be dropped"};  // fails the Retry checks
  std::thread([&] {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    ASSERT_EQ(::syscall(SYS_capget, &header, data), 0) << std::strerror(errno);
    for (int cap : {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH}) data[0].effective &= ~(1u << cap);
    ASSERT_EQ(::syscall(SYS_capset, &header, data), 0) << std::strerror(errno);
    out = adapter.deliver(m);
  }).join();
  return out;
}

}  // namespace

TEST(FileAdapter, WritesExactBytesAndLeavesNoTemporaryFile) {
  TempDir dir;
  FileSettings c;
  c.directory = dir.path / "inbox";
  auto a = make_file_adapter(c);
  const std::string body("<a>\xC3\xA4\0</a>", 10);
  auto out = a->deliver(message("abc-1", body));
  ASSERT_TRUE(std::holds_alternative<Delivered>(out));
  EXPECT_EQ(xoev::test::read_file(c.directory / "abc-1.xml"), body);
  int files = 0;
  for (const auto& e : fs::directory_iterator(c.directory)) {
    ++files;
    EXPECT_EQ(e.path().extension(), ".xml");
  }
  EXPECT_EQ(files, 1);
}

TEST(FileAdapter, SecondDeliveryOfSameIdDoesNotRewrite) {
  TempDir dir;
  FileSettings c;
  c.directory = dir.path;
  auto a = make_file_adapter(c);
  ASSERT_TRUE(std::holds_alternative<Delivered>(a->deliver(message("m", "first"))));
  auto again = a->deliver(message("m", "second"));
  ASSERT_TRUE(std::holds_alternative<Delivered>(again));
  EXPECT_NE(std::get<Delivered>(again).detail.find("already present"), std::string::npos);
  EXPECT_EQ(xoev::test::read_file(dir.path / "m.xml"), "first");
}

TEST(FileAdapter, UnwritableDirectoryAsksForRetry) {
  TempDir dir;
  fs::create_directories(dir.path);
  fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
  FileSettings c;
  c.directory = dir.path;
  // Root would write anyway, so the delivery runs on a thread without the
  // capabilities that override file permissions (CI runs as root).
  auto out = deliver_without_permission_override(*make_file_adapter(c), message("m", "x"));
  ASSERT_TRUE(std::holds_alternative<Retry>(out));
  EXPECT_NE(std::get<Retry>(out).reason.find(dir.path.string()), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.path / "m.xml"));
}

// The target name is taken by a dangling symlink (or anything exists() does not
// see): the adapter must not replace that entry, nor write through the link.
TEST(FileAdapter, NeverReplacesAnEntryAtTheTargetName) {
  TempDir dir;
  const fs::path link = dir.path / "m.xml";
  const fs::path pointee = dir.path / "elsewhere.xml";
  fs::create_symlink(pointee, link);
  FileSettings c;
  c.directory = dir.path;
  auto out = make_file_adapter(c)->deliver(message("m", "x"));
  ASSERT_TRUE(std::holds_alternative<Delivered>(out));
  EXPECT_NE(std::get<Delivered>(out).detail.find("already present"), std::string::npos);
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(link))) << "the entry at the target name was replaced";
  EXPECT_EQ(fs::read_symlink(link), pointee);
  EXPECT_FALSE(fs::exists(pointee)) << "the adapter wrote through the symlink";
  for (const auto& e : fs::directory_iterator(dir.path))
    EXPECT_NE(e.path().extension(), ".tmp") << "temporary file left behind: " << e.path();
}

TEST(FileAdapter, DirectoryThatIsAFileAsksForRetry) {
  TempDir dir;
  fs::create_directories(dir.path);
  std::ofstream(dir.path / "blocked") << "not a directory";
  FileSettings c;
  c.directory = dir.path / "blocked";
  auto out = make_file_adapter(c)->deliver(message("m", "x"));
  ASSERT_TRUE(std::holds_alternative<Retry>(out));
  EXPECT_FALSE(std::get<Retry>(out).reason.empty());
}

TEST(FileAdapter, PatternValuesCannotEscapeTheDirectory) {
  DeliveredMessage m = message("../../etc/passwd", "x");
  m.message_type = "a/b";
  EXPECT_EQ(file_name_for("{messageId}.xml", m), ".._.._etc_passwd.xml");
  EXPECT_EQ(file_name_for("{destination}-{messageType}-{messageId}.xml", m), "d-a_b-.._.._etc_passwd.xml");
}

// Group commit: one call publishes several files, in order, each complete before its
// name appears; one already there is left as it is.
TEST(FileAdapter, AGroupIsPublishedInOrderAndLeavesNoTemporaryFile) {
  TempDir dir;
  FileSettings c;
  c.directory = dir.path / "inbox";
  fs::create_directories(c.directory);
  { std::ofstream(c.directory / "g-2.xml") << "earlier"; }
  auto a = make_file_adapter(c);
  const auto m1 = message("g-1", "<one/>"), m2 = message("g-2", "<two/>"), m3 = message("g-3", "<three/>");
  const auto outcomes = a->deliver_group({&m1, &m2, &m3});
  ASSERT_EQ(outcomes.size(), 3u);
  for (const auto& o : outcomes) EXPECT_TRUE(std::holds_alternative<Delivered>(o));
  EXPECT_NE(std::get<Delivered>(outcomes[1]).detail.find("already present"), std::string::npos);
  EXPECT_EQ(xoev::test::read_file(c.directory / "g-1.xml"), "<one/>");
  EXPECT_EQ(xoev::test::read_file(c.directory / "g-2.xml"), "earlier");
  EXPECT_EQ(xoev::test::read_file(c.directory / "g-3.xml"), "<three/>");
  EXPECT_EQ(std::distance(fs::directory_iterator(c.directory), fs::directory_iterator()), 3);
}

// A message that cannot be written ends the group: the ones before it are published,
// the ones after it are not (they may share its key), and no temporary file remains.
TEST(FileAdapter, AGroupStopsAtTheFirstMessageThatCannotBeWritten) {
  TempDir dir;
  FileSettings c;
  c.directory = dir.path / "inbox";
  auto a = make_file_adapter(c);
  // Its name fits (244 characters) but its temporary name does not (over 255).
  const auto m1 = message("g-1", "<one/>"), m2 = message(std::string(240, 'x'), "<two/>"),
             m3 = message("g-3", "<three/>");
  const auto outcomes = a->deliver_group({&m1, &m2, &m3});
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<Delivered>(outcomes[0]));
  ASSERT_TRUE(std::holds_alternative<Retry>(outcomes[1]));
  EXPECT_EQ(xoev::test::read_file(c.directory / "g-1.xml"), "<one/>");
  EXPECT_FALSE(fs::exists(c.directory / "g-3.xml"));
  EXPECT_EQ(std::distance(fs::directory_iterator(c.directory), fs::directory_iterator()), 1);
}

namespace {

DeliveredMessage file_message(std::string id, const fs::path& file) {
  DeliveredMessage m = message(std::move(id), "");
  m.body_file = file;
  m.body_size = fs::file_size(file);
  return m;
}

struct stat stat_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st;
}

}  // namespace

// A reassembled large message in the same file system is given its inbox name by a
// link: no byte is copied, the deliverer's file is left for it to release, and the
// published file has the inbox's mode.
TEST(FileAdapter, ALargeMessageOnTheSameFileSystemIsLinkedNotCopied) {
  TempDir dir;
  const fs::path reassembled = dir.path / "state" / "seq.part";
  xoev::test::write_file(reassembled, std::string(300000, 'x'));
  fs::permissions(reassembled, fs::perms::owner_read | fs::perms::owner_write);
  FileSettings c;
  c.directory = dir.path / "inbox";
  auto a = make_file_adapter(c);
  auto out = a->deliver(file_message("big-1", reassembled));
  ASSERT_TRUE(std::holds_alternative<Delivered>(out));
  const fs::path target = c.directory / "big-1.xml";
  EXPECT_EQ(stat_of(target).st_ino, stat_of(reassembled).st_ino);
  EXPECT_EQ(stat_of(target).st_mode & 0777, 0640u);
  EXPECT_EQ(xoev::test::read_file(target), std::string(300000, 'x'));
  EXPECT_EQ(std::distance(fs::directory_iterator(c.directory), fs::directory_iterator()), 1);
}

// From another file system (tmpfs /dev/shm beside the test's directory) it is copied.
TEST(FileAdapter, ALargeMessageFromAnotherFileSystemIsCopied) {
  TempDir dir;
  const fs::path elsewhere = fs::path("/dev/shm") / ("xoev-test-" + std::to_string(::getpid()) + ".part");
  if (!fs::is_directory("/dev/shm") || stat_of("/dev/shm").st_dev == stat_of(dir.path).st_dev)
    GTEST_SKIP() << "/dev/shm is not a separate file system here";
  xoev::test::write_file(elsewhere, std::string(300000, 'y'));
  FileSettings c;
  c.directory = dir.path / "inbox";
  auto a = make_file_adapter(c);
  auto out = a->deliver(file_message("big-2", elsewhere));
  ASSERT_TRUE(std::holds_alternative<Delivered>(out));
  const fs::path target = c.directory / "big-2.xml";
  EXPECT_NE(stat_of(target).st_ino, stat_of(elsewhere).st_ino);
  EXPECT_EQ(stat_of(target).st_mode & 0777, 0640u);
  EXPECT_EQ(xoev::test::read_file(target), std::string(300000, 'y'));
  EXPECT_EQ(std::distance(fs::directory_iterator(c.directory), fs::directory_iterator()), 1);
  fs::remove(elsewhere);
}
