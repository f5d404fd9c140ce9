// A large submission, handled while its body arrives (issue 10; format in the README,
// "Large messages"): the bytes are parsed and schema-validated as they come
// (StreamingInspector), routed once the head is known, and sealed and produced as
// chunk records of kafka.chunk_bytes each — never the whole body in memory. The last
// chunk is held back until the body ended and the whole document validated; it carries
// size, chunk count and SHA-256 of the whole message, so only a complete, valid
// message can ever be delivered. A sequence given up after it began (invalid at the
// end, sender gone) gets an abort record. 202 comes after the last chunk's ack.
//
// Flow control: the next piece is asked for (`more`) only while fewer than
// kChunksInFlight chunks wait for their acks; a chunk the backlog budget does not admit
// waits in the BacklogWaiter, and with it the sender (TCP back-pressure), while the
// deliverer makes progress (`backlog_stall`).
//
// Threading: piece/end/abort come one after another from the HTTP session; the work
// runs on a WorkerPool of its own (GatewayRuntime's "stream" pool), and producer acks
// and backlog waits come back through it.
#pragma once


#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "gateway/core/worker_pool.h"
#include "gateway/ingest/backlog_waiter.h"
#include "gateway/ingest/ingest_pipeline.h"
#include "gateway/ingest/streaming_inspector.h"
#include "gateway/route/router.h"

namespace xoev {

class StreamedSubmission : public std::enable_shared_from_this<StreamedSubmission> {
 public:
  struct Options {
    size_t chunk_bytes = 256u << 10;
    size_t head_window_bytes = 1u << 20;  // the routing head must be complete within this (≥ chunk_bytes)
    uint64_t max_message_bytes = 2ull << 30;
    // A chunk waits for the backlog as long as the deliverer drains it; after this long
    // without progress the upload gets 503 backlog-full.
    std::chrono::seconds backlog_stall{60};
  };
  // `waiter` may be null (no backlog limit). All references outlive the submission's
  // last callback (GatewayRuntime stops the HTTP server before the pipeline).
  static std::shared_ptr<StreamedSubmission> start(IngestPipeline& pipeline, WorkerPool& workers, BacklogWaiter* waiter,
                                                   Options options, std::string traceparent, HeaderCheck check,
                                                   std::string sender);
  ~StreamedSubmission();

  // The next bytes (copied); `more` is called once the submission wants the next piece.
  void piece(std::string_view bytes, std::function<void()> more);
  // The body ended: `done` is called exactly once with the answer.
  void end(AcceptCallback done);
  // The sender is gone (or the body was cut off): whatever was produced is aborted.
  void abort(std::string why);
  // Hex SHA-256 of the whole body (for the audit line); only inside end()'s `done`,
  // which runs where the submission's state may be read. Empty if the body never ended.
  const std::string& payload_sha256_hex() const;

  StreamedSubmission(IngestPipeline& pipeline, WorkerPool& workers, BacklogWaiter* waiter, Options options,
                     std::string traceparent, HeaderCheck check, std::string sender);

 private:
  // Runs `job` on the streams' worker pool under mu_.
  void post(std::function<void()> job);
  void take(std::string bytes);
  void take_piece(std::string bytes, size_t window);
  Problem head_not_within(size_t window) const;
  bool route_head();
  // Produces what is ready, asks for more, or finishes: the one place that moves on.
  void pump();
  void produce_chunk(std::string plaintext, bool last);
  // The record of one chunk (or of the abort record, empty) with the head's signed headers.
  Envelope chunk_record(std::string plaintext) const;
  // A chunk sealed on another thread: produced once every chunk before it was.
  void on_sealed(uint64_t index, Result<Envelope> sealed);
  void on_ack(Result<BrokerAck> ack);
  void complete();  // the body ended and validated: the last chunk, then 202
  // Gives up: answers `problem` (once) and aborts a sequence already begun.
  void fail(Problem problem);
  void answer(Result<Acceptance> result);

  IngestPipeline& pipeline_;
  WorkerPool& workers_;
  BacklogWaiter* waiter_;
  const Options options_;
  const std::string traceparent_;
  const HeaderCheck check_;
  const std::string sender_;
  std::shared_ptr<const GatewaySnapshot> snapshot_;

  std::mutex mu_;
  StreamingInspector inspector_;
  std::string digest_, sha256_hex_;  // of the whole body, set when it ended
  std::string pending_;  // bytes not yet produced; at most chunk_bytes + one piece
  uint64_t total_ = 0;
  std::optional<RouteDecision> decision_;
  RoutingHeader head_;
  std::string seq_;              // the sequence id (= message id when the head has one)
  bool registered_ = false;      // in the pipeline's in-flight table under head_.message_id
  bool resend_ = false;          // the id was accepted before: the pipeline answers
  std::string accepted_at_;
  uint64_t chunks_ = 0;          // given an index: being sealed, produced or acknowledged
  uint64_t produced_ = 0;        // handed to the producer, in index order
  std::map<uint64_t, Envelope> sealed_;  // sealed, waiting for the chunks before them
  static constexpr uint64_t kChunksInFlight = 4;
  uint64_t in_flight_ = 0;       // chunks being sealed or waiting for their ack
  bool completing_ = false;      // complete() ran (the body ended)
  bool waiting_backlog_ = false;
  bool last_sent_ = false;       // the last chunk has its index (sealing or later)
  bool last_produced_ = false;   // ... and was handed to the producer (or an abort was)
  std::optional<Problem> failed_;
  bool ended_ = false;
  std::function<void()> more_;
  AcceptCallback done_;
  std::optional<Result<Acceptance>> answer_;  // came before end()
  std::optional<Receipt> receipt_;
};

}  // namespace xoev
