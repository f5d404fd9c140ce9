// A streamed submission's routing head must be complete within its window (never less
// than a chunk), whatever size the pieces of the body come in: one large piece that
// holds the head beyond the window is refused just as many small ones would be.
#include "gateway/ingest/streamed_submission.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <vector>

#include "gateway/crypto/chunk_seal.h"
#include "gateway/kafka/topic_names.h"
#include "tests/unit/ingest/ingest_test_support.h"

namespace xoev {
namespace {

class AckingSink : public RecordSink {
 public:
  void produce(Envelope env, AckCallback cb) override {
    if (env.topic != names::kReceiptsTopic) {
      ++records;
      std::lock_guard lock(mu);
      chunk_order.push_back(env.get(std::string(crypto::kChunkHeader)));
    }
    cb(BrokerAck{0, offset++});
  }
  std::atomic<int> records{0};
  std::atomic<int64_t> offset{0};
  std::mutex mu;
  std::vector<std::string> chunk_order;  // the xoev-chunk index of each record, as produced
};

// The sample with an XML comment of `comment_bytes` after its declaration, so that its
// head ends that much later.
std::string with_leading_comment(const std::string& xml, size_t comment_bytes) {
  const size_t end = xml.find("?>") + 2;
  return xml.substr(0, end) + "\n<!--" + std::string(comment_bytes, 'x') + "-->" + xml.substr(end);
}

struct StreamedSubmissionTest : testing::Test {
  test::TempDir dir{"xoev-streamed-"};
  SnapshotHolder snapshots{test::one_destination_snapshot(dir.path)};
  AckingSink sink;
  StatusStore statuses;
  ReceiptPublisher receipts{sink, test::gateway_key()};
  IngestPipeline pipeline{snapshots, sink, statuses, receipts, nullptr};
  WorkerPool workers{"stream-test", 2, 64};

  // Sends `body` in pieces of `piece_bytes` (each after the submission asked for more)
  // and returns the answer's HTTP status and detail.
  std::pair<int, std::string> submit(const std::string& body, size_t piece_bytes, size_t window) {
    StreamedSubmission::Options options;
    options.chunk_bytes = 4096;
    options.head_window_bytes = window;
    auto sub = StreamedSubmission::start(pipeline, workers, nullptr, options, "", nullptr, "");
    for (size_t at = 0; at < body.size(); at += piece_bytes) {
      auto wanted = std::make_shared<std::promise<void>>();
      auto asked = wanted->get_future();
      sub->piece(std::string_view(body).substr(at, piece_bytes), [wanted] { wanted->set_value(); });
      if (asked.wait_for(std::chrono::seconds(10)) != std::future_status::ready) break;
    }
    auto answered = std::make_shared<std::promise<std::pair<int, std::string>>>();
    auto answer = answered->get_future();
    sub->end([answered](Result<Acceptance> r) {
      answered->set_value(r ? std::pair{r->http_status, std::string()}
                            : std::pair{r.problem().http_status(), r.problem().detail});
    });
    if (answer.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return {0, "no answer"};
    return answer.get();
  }
};

TEST_F(StreamedSubmissionTest, AHeadPastTheWindowIsRefusedWhateverThePieceSize) {
  ASSERT_NE(snapshots.get(), nullptr);
  const std::string late = with_leading_comment(test::sample_message(), 12000);
  for (size_t piece : {size_t{1000}, late.size()}) {
    auto [status, detail] = submit(late, piece, 8192);
    EXPECT_EQ(status, 422) << "pieces of " << piece << ": " << detail;
    EXPECT_NE(detail.find("within the first 8192 bytes"), std::string::npos) << detail;
  }
  EXPECT_EQ(sink.records.load(), 0) << "nothing of a refused head is produced";
}

TEST_F(StreamedSubmissionTest, AHeadWithinTheWindowIsAcceptedWhateverThePieceSize) {
  ASSERT_NE(snapshots.get(), nullptr);
  const std::string base = test::sample_message();
  for (size_t piece : {size_t{1000}, size_t{1} << 20}) {
    // A fresh id each time: the second would otherwise be a resend.
    std::string early = with_leading_comment(base, 2000);
    const size_t id_at = early.find(test::kSampleId);
    ASSERT_NE(id_at, std::string::npos);
    early[id_at] = piece == 1000 ? 'a' : 'b';
    auto [status, detail] = submit(early, piece, 8192);
    EXPECT_EQ(status, 202) << "pieces of " << piece << ": " << detail;
  }
}

// Chunks are sealed on the pool's threads in parallel, and may finish in any order; the
// producer still gets 0, 1, 2, ... (one partition: the deliverer refuses a gap).
TEST_F(StreamedSubmissionTest, ChunksSealedInParallelReachTheProducerInOrder) {
  ASSERT_NE(snapshots.get(), nullptr);
  std::string body = test::sample_message();
  body += "\n<!--" + std::string(400000, 'x') + "-->\n";  // after the root: ~100 chunks of 4 KiB
  auto [status, detail] = submit(body, 64 * 1024, 8192);
  ASSERT_EQ(status, 202) << detail;
  std::lock_guard lock(sink.mu);
  ASSERT_GT(sink.chunk_order.size(), 90u);
  for (size_t i = 0; i < sink.chunk_order.size(); ++i) ASSERT_EQ(sink.chunk_order[i], std::to_string(i)) << "record " << i;
}

}  // namespace
}  // namespace xoev
