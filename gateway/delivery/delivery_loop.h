// The consumer side of one destination: consume → verify + decrypt → (transform) →
// adapter → receipt → commit. At-least-once consumption; the adapters are
// idempotent per message id, so the Fachverfahren sees each message once.
//
// Ordering: records of a partition are handled one after another, and a record that
// must be retried blocks its partition until it is delivered or dead-lettered, so
// messages with the same key are never reordered and memory stays bounded however
// slow the target is.
//
// Group commit (adapters whose repeats are invisible, OutboundAdapter::delivers_groups:
// the file adapter): what the consumer has already fetched (up to adapter.max_group records or
// kMaxGroupBytes) is verified and decrypted in parallel, handed to the adapter as one
// group (the file adapter syncs a group once), recorded in the ledger with one
// fdatasync, its receipts produced together and awaited once, and its offsets
// committed once per partition. A record that is not simply delivered (a retry, a
// refusal, a duplicate) ends the group: the group is finished first, then that
// record is handled alone, in order. Under light load a group is one record. Other
// adapters get one record at a time (screened in parallel all the same).
//
// A record's offset is committed only after its outcome is durable: the delivered
// file/HTTP call happened and its id is in the ledger, or the dead letter was
// acknowledged by the broker — and the outcome's receipt was acknowledged too. What
// cannot be made durable is retried (with backoff) until a stop is requested; then
// the record stays uncommitted and the partition's next owner handles it again.
//
// A deliverer speaks only about what it verified: the signature is checked first,
// then the signed xoev-destination against its own id, then the ledger. A record that
// fails either check is dead-lettered under its topic/partition/offset (headers
// xoev-dlq-topic/-partition/-offset, xoev-dlq-unverified: true) and gets NO receipt:
// the id it claims may be another, real message's. Receipts are signed with the
// deliverer's own key (Parts::signing_key).
//
// An adapter that hands messages on to another gateway (gateway/delivery/hand_over.h)
// gets `forwarded` for its Delivered, an entry in <state>/<id>.forwarded instead of
// the delivered ledger, and a HandOverFollower thread for the final status.
//
// Dead letters are accepted messages and must stay visible: when the dead-letter
// topic's backlog is near the cluster's limit (Parts::dead_letter_backlog), the
// deliverer waits instead of dead-lettering, so the record stays in its topic.
#pragma once

#include <atomic>
#include <deque>
#include <unordered_set>
#include <functional>
#include <memory>
#include <optional>
#include <mutex>
#include <random>
#include <stop_token>
#include <string>

#include "adapters/outbound/outbound_adapter.h"
#include "gateway/audit/audit_event.h"
#include "gateway/config/config.h"
#include "gateway/crypto/key_ring.h"
#include "gateway/delivery/chunk_assembler.h"
#include "gateway/delivery/delivered_ledger.h"
#include "gateway/delivery/forwarded_ledger.h"
#include "gateway/delivery/hand_over.h"
#include "gateway/kafka/backlog_monitor.h"
#include "gateway/kafka/record_sink.h"
#include "gateway/metrics/histogram.h"
#include "gateway/kafka/record_source.h"
#include "gateway/status/receipt_publisher.h"

namespace xoev {

class DeliveryLoop {
 public:
  // A group stops growing at adapter.max_group records or at this many value bytes.
  static constexpr size_t kMaxGroupBytes = 8u << 20;
  struct Counters {
    std::atomic<uint64_t> delivered{0}, retried{0}, rejected{0}, dead_lettered{0}, duplicates{0};
    std::atomic<uint64_t> unverified{0};     // signature failed or another destination's record
    std::atomic<uint64_t> dead_letter_waits{0};
    std::atomic<uint64_t> chunks{0}, chunk_sequences_refused{0}, chunk_sequences_expired{0};  // dead letters held back while the DLQ was full
    // Seconds: each call of the adapter, and acceptance (the record's CreateTime) → delivered.
    metrics::Histogram deliver_seconds, end_to_end_seconds;
  };
  // What a loop is made of; create() builds it from the config, tests from fakes.
  struct Parts {
    DestinationSection destination;
    crypto::KeyRing trusted;     // gateway keys whose signatures are accepted
    crypto::KeyRing decryption;  // the destination's private keys
    OutboundAdapterPtr adapter;
    std::unique_ptr<DeliveredLedger> ledger;
    // Required when the adapter is a HandOver (create() opens it next to the ledger).
    std::unique_ptr<ForwardedLedger> forwarded;
    std::optional<crypto::Jwk> signing_key;  // signs this deliverer's receipts; required
    // Watches names::dlq_topic(destination.id) when the cluster drops records; may be
    // null (a real cluster keeps them). Must outlive the loop.
    BacklogMonitor* dead_letter_backlog = nullptr;
    // Reassembles chunked (large) messages; null: chunk records are refused.
    std::unique_ptr<ChunkAssembler> assembler;
  };

  // `sink` carries receipts and dead letters; it must outlive the loop.
  static Result<std::unique_ptr<DeliveryLoop>> create(const Config& config, const DestinationSection& destination,
                                                      RecordSink& sink, BacklogMonitor* dead_letter_backlog = nullptr);
  DeliveryLoop(Parts parts, RecordSink& sink);

  // Told each final decision about a record (delivered, rejected, dead-lettered) once its
  // outcome is durable: the audit log's line, with the payload's SHA-256, never the
  // payload. Optional; set before run().
  using DecisionObserver = std::function<void(const audit::AuditEvent&)>;
  void observe_decisions(DecisionObserver observer) { observe_decisions_ = std::move(observer); }

  // Re-reads the adapter's certificates (SIGHUP); safe while run() delivers.
  Status reload_tls() { return adapter_->reload_tls(); }
  // Handles the records of `source` until a stop is requested.
  void run(RecordSource& source, const std::stop_token& stop);
  const Counters& counters() const { return counters_; }
  const std::string& destination_id() const { return destination_.id; }
  // The consumer's lag per assigned partition, sampled about once a second by run().
  std::vector<PartitionLag> lag() const;

 private:
  enum class Handled { committed, stopped };
  class ReceiptTrail;
  // A record after the checks that need no target: ready for the adapter, or why not.
  struct Screened;
  Screened screen(const ConsumedRecord& record) const;
  // Screens the records of a batch in parallel (they are independent until delivered).
  std::vector<Screened> screen_all(const std::vector<ConsumedRecord>& records) const;
  Handled handle_batch(RecordSource& source, const std::vector<ConsumedRecord>& records, const std::stop_token& stop);
  // A run of ready records: one adapter call, one ledger sync, receipts awaited together.
  Handled deliver_together(RecordSource& source, const std::vector<const ConsumedRecord*>& records,
                           std::vector<Screened>& group, const std::stop_token& stop);
  // One record alone, with retries. `first`: the outcome of a first attempt already
  // made in a group (then its "forwarded" receipt was published too).
  Handled handle(RecordSource& source, const ConsumedRecord& record, Screened screened, const std::stop_token& stop,
                 std::optional<DeliveryOutcome> first = std::nullopt);
  // One verified chunk record of a large message: into the assembler (durable), then the
  // offset; the last one delivers the whole message from its file. A chunk between the
  // first and the last of its sequence is only written and kept in unsettled_chunks_.
  Handled handle_chunk(RecordSource& source, const ConsumedRecord& record, Screened screened,
                       const std::stop_token& stop);
  // Group commit of chunks: makes the unsettled ones durable together (ChunkAssembler::
  // flush, their writes repeated if it failed), then commits the last one's offset per
  // partition. Before any other record of the batch is handled, and at the batch's end:
  // no offset moves past a chunk that is not durable.
  Handled settle_chunks(RecordSource& source, const std::stop_token& stop);
  void forget_unsettled_chunks();
  // True if the source has read its partitions to their end: only then can a held
  // sequence's rest not be on its way (the caller checks that partitions are held).
  bool chunked_sequences_may_expire(RecordSource& source);
  // Sequences without progress for adapter.chunk_timeout: discarded, with a receipt.
  void expire_chunk_sequences();
  // Makes an outcome durable (dead letter where needed, then its receipt), then
  // commits the record's offset.
  // `result` names the decision in the audit line (ok, duplicate, target-refused ...).
  Handled finish(RecordSource& source, const ConsumedRecord& record, ReceiptTrail& trail, ReceiptStatus status,
                 const std::string& detail, bool to_dlq, int attempts, const char* result, const std::stop_token& stop);
  // The audit line of a final decision (when observed), after its outcome is durable.
  void audit_decision(const ReceiptTrail& trail, const std::string& id, ReceiptStatus status, const char* result,
                      int attempts, const std::string& detail);
  // Counters, histograms and the log line of one delivered message.
  void count_delivered(const ConsumedRecord& record, const Message& m, std::chrono::nanoseconds deliver_time);
  // Sends the record to the DLQ and waits for the broker (returns false if it could not,
  // or if the DLQ is too full to take it now). `unverified`: keyed by its origin, not its id.
  bool dead_letter(const ConsumedRecord& record, const std::string& reason, int attempts, bool unverified);
  // A record that is not verifiably ours: dead-lettered under its origin, no receipt.
  Handled refuse_unverified(RecordSource& source, const ConsumedRecord& record, const std::string& why,
                            const std::stop_token& stop);
  bool publish_and_wait(const Receipt& r);
  // Calls `attempt` until it succeeds (true) or a stop is requested (false), with
  // backoff between tries; the first try happens even when already stopping.
  template <class Attempt>
  bool until_done(const std::stop_token& stop, const std::string& what, Attempt attempt);
  std::chrono::milliseconds backoff(int attempt);

  DestinationSection destination_;
  crypto::KeyRing trusted_;
  crypto::KeyRing decryption_;
  OutboundAdapterPtr adapter_;
  std::unique_ptr<DeliveredLedger> ledger_;
  HandOver* hand_over_ = nullptr;  // adapter_ as a HandOver, or null
  std::unique_ptr<ForwardedLedger> forwarded_;
  std::unique_ptr<ChunkAssembler> assembler_;
  struct UnsettledChunk {
    const ConsumedRecord* record;  // of the batch being handled
    crypto::OpenedChunk chunk;     // kept to write again if the flush fails
  };
  std::vector<UnsettledChunk> unsettled_chunks_;
  // Sequences refused lately (bounded): their later chunks are dropped without a word.
  std::unordered_set<std::string> refused_sequences_;
  std::deque<std::string> refused_order_;
  BacklogMonitor* dead_letter_backlog_;
  RecordSink& sink_;
  ReceiptPublisher receipts_;
  Counters counters_;
  DecisionObserver observe_decisions_;
  std::mt19937_64 rng_{std::random_device{}()};
  mutable std::mutex lag_mu_;
  std::vector<PartitionLag> lag_;
};

}  // namespace xoev
