// The accept path: inspect → route → check for resends → back-pressure → seal
// (JWE + gateway JWS) → produce → answer. The answer comes only from the delivery
// report: 202 when the broker acknowledged (acks=all), 503 otherwise. On a cluster
// that drops records, a message that does not fit its destination's backlog waits for
// room (holding its request, never produced meanwhile) up to kafka.backlog_wait.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/core/message.h"
#include "gateway/core/routing_header.h"
#include "gateway/core/worker_pool.h"
#include "gateway/ingest/snapshot_holder.h"
#include "gateway/kafka/backlog_monitor.h"
#include "gateway/kafka/record_sink.h"
#include "gateway/metrics/counter_by_label.h"
#include "gateway/metrics/histogram.h"
#include "gateway/status/receipt_publisher.h"
#include "gateway/status/status_store.h"

namespace xoev {

class BacklogWaiter;

struct Acceptance {
  int http_status = 202;  // 202 first time, 200 for a resent message id
  nlohmann::json body;
};
using AcceptCallback = std::function<void(Result<Acceptance>)>;
// Asked once the routing header is known, before routing: a refusal (e.g. 403 from the
// sender's rights) answers the submission and nothing is produced.
using HeaderCheck = std::function<Status(const RoutingHeader&)>;

class IngestPipeline {
 public:
  // How a message that does not fit its destination's backlog waits for room: on
  // `waiter`, at most `limit`, then continued on `workers`. Without a waiter or with a
  // limit of 0 it is answered 503 backlog-full at once.
  struct BacklogWait {
    BacklogWaiter* waiter = nullptr;
    WorkerPool* workers = nullptr;
    std::chrono::milliseconds limit{0};
  };
  // backlog may be null (real clusters keep what they are told to keep). Every
  // reference must outlive the sink's last delivery report (GatewayRuntime::stop), and
  // the waiter's last answer (it answers every waiting message when it is destroyed).
  IngestPipeline(SnapshotHolder& snapshots, RecordSink& sink, StatusStore& status, ReceiptPublisher& receipts,
                 BacklogMonitor* backlog, BacklogWait wait);
  IngestPipeline(SnapshotHolder& snapshots, RecordSink& sink, StatusStore& status, ReceiptPublisher& receipts,
                 BacklogMonitor* backlog)  // refuses at once what does not fit
      : IngestPipeline(snapshots, sink, status, receipts, backlog, BacklogWait{}) {}

  // Calls done exactly once, on this thread or on the producer's thread. `sender`: the
  // authenticated sender (empty when anonymous), kept in the accepted receipt so the
  // status answers that sender after a restart too.
  void submit(std::string body, std::string traceparent, AcceptCallback done, const HeaderCheck& check = {},
              std::string sender = {});

  struct Counters {
    std::atomic<uint64_t> accepted{0}, duplicates{0}, refused{0}, broker_failures{0}, backlog_refusals{0};
    metrics::CounterByLabel refused_by_reason;  // problem slug → count (refused before routing or sealing)
    // Seconds per stage: parse and validate (every message that got that far), seal and
    // produce (until the broker's acknowledgement) for the messages sent to Kafka.
    metrics::Histogram parse_seconds, validate_seconds, seal_seconds, produce_seconds;
  };
  const Counters& counters() const { return counters_; }

  // For a message id about to be accepted: true if this caller is the first (then it
  // must end with finish()); false if it is known (`done` answered 200 now) or another
  // submission of it is under way (`done` answered with that one's outcome).
  bool join_in_flight(const std::string& id, AcceptCallback done);

  // Called by the ReceiptsTracker after each receipt it applied. When this instance's
  // newest receipt of an id reached the topic after a deliverer's later step, it is the
  // newest record of its key without being the whole status, so the pipeline publishes
  // the whole status once more.
  void receipt_applied(const Receipt& applied);

 private:
  friend class StreamedSubmission;  // the large-message path shares the in-flight table and sink
  // Answers everyone waiting for `id`. `accepted` (on success) enters the status store
  // under the same lock that ends the in-flight entry, so a resend sees one or the other.
  void finish(const std::string& id, Result<Acceptance> first, const Receipt* accepted = nullptr);
  void count_refusal(const Problem& p);
  struct Routed;  // a validated, routed submission on its way to its topic
  // Produces `r` once its destination's backlog has room for it (a reservation), waits
  // for room, or refuses it with 503 backlog-full.
  void admit(std::shared_ptr<Routed> r);
  void seal_and_produce(std::shared_ptr<Routed> r, size_t reserved);
  void refuse_for_backlog(const Routed& r);
  // The signed metadata of the record(s) for a validated, routed head; the body is the caller's.
  static Message accepted_message(const RoutingHeader& h, const RouteDecision& decision,
                                  const std::string& accepted_at, const std::string& traceparent);
  // `accepted` with the status, detail and history of what is known since.
  static Receipt restated(const Receipt& accepted, const MessageStatus& known);
  void remember_unconfirmed(const Receipt& accepted);

  SnapshotHolder& snapshots_;
  RecordSink& sink_;
  StatusStore& status_;
  ReceiptPublisher& receipts_;
  BacklogMonitor* backlog_;
  BacklogWait wait_;
  Counters counters_;
  // Requests for a message id whose first submission is still waiting for the broker.
  // Held while a submission checks status_ and in_flight_ (mu_ before status_'s own lock).
  std::mutex mu_;
  std::unordered_map<std::string, std::vector<AcceptCallback>> in_flight_;
  // This instance's newest receipt per id (its "accepted", or a restatement of it), until
  // the tracker read it back as the whole status.
  struct Unconfirmed {
    Receipt accepted;  // the accepted facts every restatement carries
    ReceiptStatus status;
    std::string at;  // of the receipt published last
  };
  static constexpr size_t kMaxUnconfirmed = 16384;
  std::mutex unconfirmed_mu_;
  std::unordered_map<std::string, Unconfirmed> unconfirmed_;
  std::deque<std::string> unconfirmed_order_;
};

}  // namespace xoev
