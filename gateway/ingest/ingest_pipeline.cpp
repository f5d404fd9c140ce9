#include "gateway/ingest/ingest_pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "gateway/core/clock.h"
#include "gateway/core/log_format.h"
#include "gateway/core/routing_fields.h"
#include "gateway/core/trace_context.h"
#include "gateway/crypto/envelope_seal.h"
#include "gateway/ingest/backlog_waiter.h"
#include "gateway/kafka/message_record.h"

namespace xoev {

struct IngestPipeline::Routed {
  std::shared_ptr<const GatewaySnapshot> snap;  // keeps decision.destination alive across a reload
  RoutingHeader head;
  RouteDecision decision;
  std::string body, traceparent, sender;
  std::chrono::steady_clock::time_point received, give_up_at;
};

IngestPipeline::IngestPipeline(SnapshotHolder& snapshots, RecordSink& sink, StatusStore& status,
                               ReceiptPublisher& receipts, BacklogMonitor* backlog, BacklogWait wait)
    : snapshots_(snapshots), sink_(sink), status_(status), receipts_(receipts), backlog_(backlog), wait_(wait) {}

void IngestPipeline::submit(std::string body, std::string traceparent, AcceptCallback done, const HeaderCheck& check,
                            std::string sender) {
  const auto received = std::chrono::steady_clock::now();
  auto snap = snapshots_.get();
  Inspection inspected = snap->inspector().inspect(body);
  if (inspected.parse_time) counters_.parse_seconds.observe(*inspected.parse_time);
  if (inspected.validate_time) counters_.validate_seconds.observe(*inspected.validate_time);
  if (inspected.problem) {
    count_refusal(*inspected.problem);
    return done(std::move(*inspected.problem));
  }
  const RoutingHeader& h = inspected.header;
  if (check)
    if (auto allowed = check(h); !allowed) {
      count_refusal(allowed.problem());
      return done(std::move(allowed).problem());
    }
  auto decision = snap->router().route(h);
  if (!decision) {
    count_refusal(decision.problem());
    return done(std::move(decision).problem());
  }

  // A resent message id is answered from what we know, and nothing is produced again.
  // Known status and in-flight entry are checked under one lock: finish() moves a
  // message from one to the other under it, so no resend slips between the two.
  {
    std::unique_lock lock(mu_);
    if (auto known = status_.get(h.message_id)) {
      lock.unlock();
      ++counters_.duplicates;
      return done(Acceptance{200, known->accepted_answer()});
    }
    auto [it, first] = in_flight_.try_emplace(h.message_id);
    if (!first) ++counters_.duplicates;
    it->second.push_back(std::move(done));
    if (!first) return;  // answered when the first submission is
  }
  admit(std::make_shared<Routed>(Routed{std::move(snap), std::move(inspected.header), std::move(decision).value(),
                                        std::move(body), std::move(traceparent), std::move(sender), received,
                                        received + wait_.limit}));
}

// How stale the backlog may be for a waiting single record (see BacklogWaiter).
constexpr std::chrono::milliseconds kSingleRecordRefresh{20};

void IngestPipeline::admit(std::shared_ptr<Routed> r) {
  if (!backlog_) return seal_and_produce(std::move(r), 0);
  const std::string& topic = r->decision.destination->topic;
  const size_t estimate = BacklogMonitor::sealed_size_estimate(r->body.size());
  if (auto reserved = backlog_->try_reserve(topic, estimate)) return seal_and_produce(std::move(r), *reserved);
  if (!wait_.waiter || !wait_.workers || std::chrono::steady_clock::now() >= r->give_up_at)
    return refuse_for_backlog(*r);
  // The request waits with its connection; the next look may find the room taken by
  // another message admitted in the same round, and waits again until give_up_at.
  wait_.waiter->when_admitted(
      topic, estimate, wait_.limit,
      [this, r](bool room) {
        if (!room || !wait_.workers->try_post([this, r] { admit(r); })) refuse_for_backlog(*r);
      },
      r->give_up_at, kSingleRecordRefresh);
}

void IngestPipeline::refuse_for_backlog(const Routed& r) {
  ++counters_.backlog_refusals;
  const DestinationSection& dest = *r.decision.destination;
  std::string detail = "destination '" + dest.id + "' has " + std::to_string(backlog_->undelivered_bytes(dest.topic)) +
                       " undelivered bytes waiting; the embedded Kafka cluster would drop older records";
  if (wait_.waiter && wait_.limit.count() > 0)
    detail += " (this message waited " +
              std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                                   r.received)
                                 .count()) +
              " ms for room)";
  finish(r.head.message_id, Problem::make(ProblemKind::backlog_full, detail + ". Retry later."));
}

void IngestPipeline::seal_and_produce(std::shared_ptr<Routed> r, size_t reserved) {
  const RoutingHeader& h = r->head;
  const DestinationSection& dest = *r->decision.destination;
  // The validated header becomes the one message type, and that becomes the record.
  const std::string accepted_at = rfc3339_now();
  const size_t plain_bytes = r->body.size();
  const std::string trace = traceparent_or_new(r->traceparent);
  Message message = accepted_message(h, r->decision, accepted_at, trace);
  message.body = std::move(r->body);
  Envelope env = to_record(std::move(message), dest.topic);
  env.set(header::routing_version, r->snap->routing_version());  // unsigned, like xoev-route
  const auto seal_start = std::chrono::steady_clock::now();
  auto sealed = crypto::seal(env, r->snap->encryption_keys(dest.id), r->snap->signing_key());
  counters_.seal_seconds.observe(std::chrono::steady_clock::now() - seal_start);
  if (!sealed) {
    if (backlog_) backlog_->release(dest.topic, reserved);
    spdlog::error("cannot seal message {} for {}: {}", h.message_id, dest.id, sealed.problem().one_line());
    return finish(h.message_id, Problem::make(ProblemKind::internal, "the message could not be encrypted for its destination"));
  }

  nlohmann::json answer = {{"messageId", h.message_id}, {"destination", dest.id}, {"status", "accepted"},
                           {"standard", h.standard}, {"messageType", h.message_type.display()}};
  Receipt receipt;
  receipt.message_id = h.message_id;
  receipt.destination = dest.id;
  receipt.status = ReceiptStatus::accepted;
  receipt.at = accepted_at;
  receipt.detail = "accepted for " + dest.id + " (" + std::to_string(plain_bytes) + " bytes)";
  receipt.standard = h.standard;
  receipt.message_type = h.message_type.display();
  receipt.route = r->decision.route;
  receipt.routing_version = r->snap->routing_version();
  receipt.traceparent = trace;
  receipt.sender = std::move(r->sender);

  const size_t sealed_bytes = env.value.size();
  const std::string topic = env.topic;
  const auto produce_start = std::chrono::steady_clock::now();
  const auto received = r->received;
  sink_.produce(std::move(env), [this, receipt, answer, topic, sealed_bytes, plain_bytes, produce_start, received,
                                 reserved](Result<BrokerAck> d) mutable {
    counters_.produce_seconds.observe(std::chrono::steady_clock::now() - produce_start);
    if (!d) {
      if (backlog_) backlog_->release(topic, reserved);
      ++counters_.broker_failures;
      spdlog::warn("message {} not acknowledged by Kafka: {}", receipt.message_id, d.problem().detail);
      return finish(receipt.message_id, std::move(d).problem());
    }
    if (backlog_) {  // into the ledger first, then out of the reservation: never uncounted in between
      backlog_->record_produced(topic, d->partition, d->offset, sealed_bytes);
      backlog_->release(topic, reserved);
    }
    ++counters_.accepted;
    // One line per accepted message: what, where, how long — never the payload.
    logging::event(spdlog::level::info, "message accepted",
                   {{"messageId", receipt.message_id},
                    {"destination", receipt.destination},
                    {"standard", receipt.standard},
                    {"messageType", receipt.message_type},
                    {"bytes", static_cast<long long>(plain_bytes)},
                    {"partition", static_cast<long long>(d->partition)},
                    {"offset", static_cast<long long>(d->offset)},
                    {"durationMs", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - received).count()},
                    {"traceparent", receipt.traceparent}});
    finish(receipt.message_id, Acceptance{202, std::move(answer)}, &receipt);
  });
}

bool IngestPipeline::join_in_flight(const std::string& id, AcceptCallback done) {
  std::unique_lock lock(mu_);
  if (auto known = status_.get(id)) {
    lock.unlock();
    ++counters_.duplicates;
    done(Acceptance{200, known->accepted_answer()});
    return false;
  }
  auto [it, first] = in_flight_.try_emplace(id);
  if (!first) ++counters_.duplicates;
  it->second.push_back(std::move(done));
  return first;
}

void IngestPipeline::count_refusal(const Problem& p) {
  ++counters_.refused;
  counters_.refused_by_reason.inc(p.slug());
}

Message IngestPipeline::accepted_message(const RoutingHeader& h, const RouteDecision& decision,
                                         const std::string& accepted_at, const std::string& traceparent) {
  Message message;
  message.message_id = h.message_id;
  message.destination = decision.destination->id;
  message.message_type = h.message_type.display();
  message.standard = h.standard;
  message.sender = h.author;
  message.recipient = h.reader;
  message.accepted_at = accepted_at;
  message.route = decision.route;
  message.traceparent = traceparent;
  return message;
}

Receipt IngestPipeline::restated(const Receipt& accepted, const MessageStatus& known) {
  Receipt newest = accepted;
  auto step = std::find_if(known.history.rbegin(), known.history.rend(),
                           [&](const auto& h) { return h.first == known.status; });
  if (step == known.history.rend()) return newest;
  newest.status = known.status;
  newest.at = step->second;
  newest.detail = known.detail;
  newest.history.clear();
  for (const auto& h : known.history)
    if (&h != &*step) newest.history.push_back(h);
  return newest;
}

void IngestPipeline::remember_unconfirmed(const Receipt& accepted) {
  std::lock_guard lock(unconfirmed_mu_);
  if (!unconfirmed_.try_emplace(accepted.message_id, Unconfirmed{accepted, accepted.status, accepted.at}).second) return;
  unconfirmed_order_.push_back(accepted.message_id);
  // Bounded: a tracker that lags this far behind finds its receipts caught up anyway.
  while (unconfirmed_order_.size() > kMaxUnconfirmed) {
    unconfirmed_.erase(unconfirmed_order_.front());
    unconfirmed_order_.pop_front();
  }
}

void IngestPipeline::receipt_applied(const Receipt& applied) {
  Receipt newest;
  {
    std::lock_guard lock(unconfirmed_mu_);
    auto it = unconfirmed_.find(applied.message_id);
    // Only this instance's newest receipt of the id, read back.
    if (it == unconfirmed_.end() || it->second.status != applied.status || it->second.at != applied.at) return;
    const auto known = status_.get(applied.message_id);  // the tracker applied it: it is there
    if (!known || known->status == applied.status) {  // nothing overtook it: it is the whole status
      unconfirmed_.erase(it);  // its id stays in unconfirmed_order_ until it is evicted
      return;
    }
    // A later step reached the topic before it (or while it lingered in the producer):
    // say the whole status once more, and watch that one come back the same way.
    newest = restated(it->second.accepted, *known);
    it->second.status = newest.status;
    it->second.at = newest.at;
  }
  spdlog::debug("receipts: the gateway's receipt of {} came after a later step; restating {}",
                printable(newest.message_id), to_string(newest.status));
  receipts_.publish(newest);
}

void IngestPipeline::finish(const std::string& id, Result<Acceptance> first, const Receipt* accepted) {
  std::vector<AcceptCallback> waiting;
  {
    std::lock_guard lock(mu_);
    if (accepted) status_.apply(*accepted);
    auto it = in_flight_.find(id);
    if (it != in_flight_.end()) {
      waiting = std::move(it->second);
      in_flight_.erase(it);
    }
  }
  if (accepted) {
    // A deliverer may be faster than this receipt (a chunked message's last chunk is
    // little work): then this one lands after its later steps, the newest of its key
    // without them, and a compacted xoev.receipts would keep only it. The tracker reads
    // it back and receipt_applied() restates the whole status. Published as it is first,
    // so that a sender's callback hears "accepted" in any case.
    remember_unconfirmed(*accepted);
    receipts_.publish(*accepted);
  }
  // The first submitter gets 202; those who resent meanwhile get 200 with the same
  // answer, or the same failure (then nothing was accepted and they may retry).
  for (size_t i = 0; i < waiting.size(); ++i) {
    if (!first) waiting[i](first.problem());
    else if (i == 0) waiting[i](*first);
    else waiting[i](Acceptance{200, first->body});
  }
}

}  // namespace xoev
