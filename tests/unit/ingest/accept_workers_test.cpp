// The accept path runs on the worker pool, not on the HTTP I/O threads: while every
// worker is busy (here: held inside the broker hand-off), the one I/O thread still
// answers /healthz and refuses further submissions at once with 503 + Retry-After
// instead of queueing them without bound. Released, the held submission gets its 202.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include "gateway/api/gateway_api.h"
#include "gateway/http/http_client.h"
#include "gateway/http/http_server.h"
#include "gateway/kafka/topic_names.h"
#include "tests/unit/ingest/ingest_test_support.h"

namespace xoev {
namespace {

using namespace std::chrono_literals;

// Message records block the producing thread until release(); receipts pass at once.
class BlockingSink : public RecordSink {
 public:
  void produce(Envelope env, AckCallback cb) override {
    if (env.topic != names::kReceiptsTopic) {
      std::unique_lock lock(mu_);
      ++entered_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return released_; });
    }
    cb(BrokerAck{0, 0});
  }
  bool wait_until_entered(int n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, 10s, [&] { return entered_ >= n; });
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int entered_ = 0;
  bool released_ = false;
};

http::HttpClientResponse call(uint16_t port, const std::string& method, const std::string& path,
                              const std::string& body = {}) {
  http::HttpClient::Options o;
  o.total_timeout = 10s;  // a deadlock detector, not a speed limit
  auto client = http::HttpClient::create(o).value();
  http::HttpClientRequest req;
  req.method = method;
  req.url = "http://127.0.0.1:" + std::to_string(port) + path;
  if (!body.empty()) req.headers = {{"Content-Type", "application/xml"}};
  req.body = body;
  auto r = client.send(req);
  EXPECT_TRUE(r.ok()) << method << " " << path << ": " << (r ? "" : r.problem().one_line());
  return r ? std::move(r).value() : http::HttpClientResponse{};
}

std::string message_with_id(const std::string& id) {
  std::string m = test::sample_message();
  return m.replace(m.find(test::kSampleId), std::string(test::kSampleId).size(), id);
}

TEST(AcceptWorkers, BusyWorkersLeaveTheIoThreadFreeAndRefuseBeyondTheQueue) {
  test::TempDir dir{"xoev-workers-"};
  SnapshotHolder snapshots{test::one_destination_snapshot(dir.path)};
  ASSERT_NE(snapshots.get(), nullptr);
  BlockingSink sink;
  StatusStore status;
  ReceiptPublisher receipts(sink, test::gateway_key());
  IngestPipeline pipeline(snapshots, sink, status, receipts, nullptr);
  WorkerPool workers("accept-test", 1, 1);

  http::HttpServer::Options opts;
  opts.listen = "127.0.0.1:0";
  opts.threads = 1;
  auto server = http::HttpServer::start(
      opts, make_gateway_api({pipeline, workers, status, [] { return ok_status(); }, [] { return std::string(); }}));
  ASSERT_TRUE(server.ok()) << server.problem().one_line();
  const uint16_t port = (*server)->port();

  auto first = std::async(std::launch::async, [&] {
    return call(port, "POST", "/v1/messages", message_with_id("0a9c8f1e-0000-4000-8000-000000000001"));
  });
  ASSERT_TRUE(sink.wait_until_entered(1)) << "the submission never reached the broker hand-off";

  // The only worker is held; the only I/O thread must still answer.
  EXPECT_EQ(call(port, "GET", "/healthz").status, 200);
  const auto refused = call(port, "POST", "/v1/messages", message_with_id("0a9c8f1e-0000-4000-8000-000000000002"));
  EXPECT_EQ(refused.status, 503);
  EXPECT_FALSE(refused.header("Retry-After").empty());
  EXPECT_NE(refused.body.find("server-busy"), std::string::npos) << refused.body;

  sink.release();
  EXPECT_EQ(first.get().status, 202);
  // The place is free again.
  EXPECT_EQ(call(port, "POST", "/v1/messages", message_with_id("0a9c8f1e-0000-4000-8000-000000000003")).status, 202);
  (*server)->stop();
  workers.join();
}

TEST(AcceptWorkers, JoinRunsWhatWasQueuedAndRefusesWhatComesAfter) {
  WorkerPool pool("join-test", 1, 8);
  std::atomic<int> ran{0};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool.try_post([&] {
    std::this_thread::sleep_for(5ms);
    ++ran;
  }));
  pool.join();
  EXPECT_EQ(ran.load(), 5);
  EXPECT_FALSE(pool.try_post([&] { ++ran; }));
  EXPECT_EQ(ran.load(), 5);
}

}  // namespace
}  // namespace xoev
