// ConsumerService: one named thread per consumer loop, one way to stop it, and the
// source closed exactly when it was opened.
#include "gateway/kafka/consumer_service.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <mutex>

namespace xoev {
namespace {

using namespace std::chrono_literals;

struct SourceLog {
  std::atomic<int> opened{0}, closed{0}, polls{0};
};

class CountingSource : public RecordSource {
 public:
  explicit CountingSource(SourceLog& log) : log_(log) { ++log_.opened; }
  Result<std::optional<ConsumedRecord>> poll(std::chrono::milliseconds) override {
    ++log_.polls;
    std::this_thread::sleep_for(1ms);
    return std::optional<ConsumedRecord>{};
  }
  Status commit(const ConsumedRecord&) override { return ok_status(); }
  Result<bool> caught_up() override { return true; }
  void close() override { ++log_.closed; }

 private:
  SourceLog& log_;
};

bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 1000 && !done(); ++i) std::this_thread::sleep_for(5ms);
  return done();
}

TEST(ConsumerService, RunsTheBodyOnANamedThreadUntilStoppedThenClosesTheSource) {
  SourceLog log;
  std::string thread_name;
  std::mutex mu;
  ConsumerService service(
      "deliver-standesamt-long-name", [&]() -> Result<std::unique_ptr<RecordSource>> {
        return std::unique_ptr<RecordSource>(std::make_unique<CountingSource>(log));
      },
      [&](RecordSource& source, std::stop_token stop) {
        char name[16] = {};
        pthread_getname_np(pthread_self(), name, sizeof name);
        {
          std::lock_guard lock(mu);
          thread_name = name;
        }
        while (!stop.stop_requested()) (void)source.poll(10ms);
      });
  ASSERT_TRUE(eventually([&] { return log.polls.load() > 0; }));
  EXPECT_EQ(log.closed.load(), 0);
  service.stop();
  EXPECT_EQ(log.closed.load(), 1);
  service.stop();  // idempotent
  EXPECT_EQ(log.closed.load(), 1);
  std::lock_guard lock(mu);
  EXPECT_EQ(thread_name, "deliver-standes") << "the first 15 characters name the thread";
}

TEST(ConsumerService, RetriesOpeningAndNeverClosesASourceItDidNotOpen) {
  SourceLog log;
  std::atomic<int> attempts{0};
  std::atomic<bool> body_ran{false};
  {
    ConsumerService service(
        "callbacks",
        [&]() -> Result<std::unique_ptr<RecordSource>> {
          ++attempts;
          return Problem::make(ProblemKind::broker_unavailable, "test: no cluster");
        },
        [&](RecordSource&, std::stop_token) { body_ran = true; }, 5ms);
    ASSERT_TRUE(eventually([&] { return attempts.load() >= 3; }));
  }  // destroyed while still unable to open: stops without a source
  EXPECT_FALSE(body_ran.load());
  EXPECT_EQ(log.closed.load(), 0);
}

TEST(ConsumerService, OpensOnceTheClusterIsThere) {
  SourceLog log;
  std::atomic<int> attempts{0};
  ConsumerService service(
      "receipts",
      [&]() -> Result<std::unique_ptr<RecordSource>> {
        if (++attempts < 3) return Problem::make(ProblemKind::broker_unavailable, "test: not yet");
        return std::unique_ptr<RecordSource>(std::make_unique<CountingSource>(log));
      },
      [&](RecordSource& source, std::stop_token stop) {
        while (!stop.stop_requested()) (void)source.poll(10ms);
      },
      5ms);
  ASSERT_TRUE(eventually([&] { return log.polls.load() > 0; }));
  service.stop();
  EXPECT_EQ(attempts.load(), 3);
  EXPECT_EQ(log.opened.load(), 1);
  EXPECT_EQ(log.closed.load(), 1);
}

TEST(ConsumerService, AStopEndsAWaitAtOnce) {
  std::stop_source stop;
  std::jthread stopper([&] {
    std::this_thread::sleep_for(50ms);
    stop.request_stop();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(sleep_unless_stopped(stop.get_token(), 30s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(sleep_unless_stopped(std::stop_token{}, 1ms));
}

}  // namespace
}  // namespace xoev
