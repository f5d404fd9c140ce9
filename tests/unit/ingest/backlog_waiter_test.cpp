// BacklogWaiter against the real embedded cluster: a chunk waits while the deliverer
// drains the topic, however slowly, and is given up only when it stalls.
#include "gateway/ingest/backlog_waiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "tests/unit/ingest/full_topic.h"

namespace xoev {
namespace {

using namespace std::chrono_literals;

using test::FullTopic;
constexpr size_t kRecordBytes = FullTopic::kRecordBytes;

struct Answer {
  std::promise<bool> promise;
  std::future<bool> future = promise.get_future();
  std::function<void(bool)> then() {
    return [this](bool admitted) { promise.set_value(admitted); };
  }
};

TEST(BacklogWaiter, AChunkIsAdmittedOnceTheDelivererMadeRoom) {
  FullTopic full(4);
  ASSERT_TRUE(full.deliverer);
  BacklogWaiter waiter(*full.monitor);
  Answer answer;
  waiter.when_admitted(full.topic, kRecordBytes, 30s, answer.then());
  EXPECT_EQ(answer.future.wait_for(300ms), std::future_status::timeout) << "no room yet";
  EXPECT_EQ(waiter.waiting(), 1u);
  full.deliver(1);
  ASSERT_EQ(answer.future.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(answer.future.get());
  EXPECT_EQ(waiter.waiting(), 0u);
}

// Room for the chunk needs four records delivered; the deliverer commits one every
// 500 ms, so the wait (2 s and more) outlasts the stall limit of 1.5 s: it is waited for
// because it moves.
TEST(BacklogWaiter, ASlowDelivererIsWaitedForAsLongAsItDrainsTheTopic) {
  FullTopic full(8);
  ASSERT_TRUE(full.deliverer);
  BacklogWaiter waiter(*full.monitor);
  Answer answer;
  const auto started = std::chrono::steady_clock::now();
  waiter.when_admitted(full.topic, 4 * kRecordBytes, 1500ms, answer.then());
  for (int i = 0; i < 4 && answer.future.wait_for(500ms) == std::future_status::timeout; ++i) full.deliver(1);
  ASSERT_EQ(answer.future.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(answer.future.get()) << "given up after "
                                   << std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - started).count()
                                   << " ms";
  EXPECT_GE(std::chrono::steady_clock::now() - started, 2000ms);
}

TEST(BacklogWaiter, AStalledDelivererGetsTheChunkRefusedAfterTheStallLimit) {
  FullTopic full(4);
  ASSERT_TRUE(full.deliverer);
  BacklogWaiter waiter(*full.monitor);
  Answer answer;
  const auto started = std::chrono::steady_clock::now();
  waiter.when_admitted(full.topic, kRecordBytes, 500ms, answer.then());
  ASSERT_EQ(answer.future.wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(answer.future.get());
  EXPECT_GE(std::chrono::steady_clock::now() - started, 500ms);
}

// A single-record message gives up at its own deadline even while the deliverer moves
// (kafka.backlog_wait caps how long a request is held).
TEST(BacklogWaiter, AGiveUpTimeEndsTheWaitWhateverTheProgress) {
  FullTopic full(8);
  ASSERT_TRUE(full.deliverer);
  BacklogWaiter waiter(*full.monitor);
  Answer answer;
  const auto started = std::chrono::steady_clock::now();
  waiter.when_admitted(full.topic, 4 * kRecordBytes, 1h, answer.then(), started + 700ms);
  for (int i = 0; i < 3 && answer.future.wait_for(200ms) == std::future_status::timeout; ++i) full.deliver(1);
  ASSERT_EQ(answer.future.wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(answer.future.get()) << "three of the four records it needs were delivered";
  EXPECT_GE(std::chrono::steady_clock::now() - started, 700ms);
}

TEST(BacklogWaiter, ShutdownAnswersEveryWaitingChunk) {
  FullTopic full(2);
  ASSERT_TRUE(full.deliverer);
  Answer answer;
  {
    BacklogWaiter waiter(*full.monitor);
    waiter.when_admitted(full.topic, kRecordBytes, 1h, answer.then());
  }
  ASSERT_EQ(answer.future.wait_for(0s), std::future_status::ready);
  EXPECT_FALSE(answer.future.get());
}

}  // namespace
}  // namespace xoev
