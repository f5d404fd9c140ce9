#include "gateway/ingest/streamed_submission.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "gateway/core/clock.h"
#include "gateway/core/log_format.h"
#include "gateway/core/trace_context.h"
#include "gateway/crypto/base64url.h"
#include "gateway/crypto/chunk_seal.h"
#include "gateway/crypto/openssl_util.h"
#include "gateway/kafka/message_record.h"

namespace xoev {
namespace {

std::string random_uuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) return {};
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

}  // namespace

std::shared_ptr<StreamedSubmission> StreamedSubmission::start(IngestPipeline& pipeline, WorkerPool& workers,
                                                              BacklogWaiter* waiter, Options options,
                                                              std::string traceparent, HeaderCheck check,
                                                              std::string sender) {
  return std::make_shared<StreamedSubmission>(pipeline, workers, waiter, options, std::move(traceparent),
                                              std::move(check), std::move(sender));
}

StreamedSubmission::StreamedSubmission(IngestPipeline& pipeline, WorkerPool& workers, BacklogWaiter* waiter,
                                       Options options, std::string traceparent, HeaderCheck check, std::string sender)
    : pipeline_(pipeline),
      workers_(workers),
      waiter_(waiter),
      options_(options),
      traceparent_(traceparent_or_new(traceparent)),
      check_(std::move(check)),
      sender_(std::move(sender)),
      snapshot_(pipeline.snapshots_.get()),
      inspector_(snapshot_->inspector(), options.max_message_bytes) {}

StreamedSubmission::~StreamedSubmission() {
  crypto::cleanse(pending_);
}

void StreamedSubmission::post(std::function<void()> job) {
  auto self = shared_from_this();
  // The streams' own pool holds far more jobs than uploads can have (one or two each);
  // it refuses only while shutting down, when nobody waits for an answer any more.
  if (!workers_.try_post([self, job = std::move(job)] {
        std::lock_guard lock(self->mu_);
        job();
      }))
    spdlog::debug("streamed submission: work dropped, the gateway is stopping");
}

const std::string& StreamedSubmission::payload_sha256_hex() const { return sha256_hex_; }

void StreamedSubmission::piece(std::string_view bytes, std::function<void()> more) {
  post([this, data = std::string(bytes), more = std::move(more)]() mutable {
    more_ = std::move(more);
    take(std::move(data));
    pump();
  });
}

void StreamedSubmission::end(AcceptCallback done) {
  post([this, done = std::move(done)]() mutable {
    done_ = std::move(done);
    ended_ = true;
    if (answer_) {
      auto a = std::move(*answer_);
      answer_.reset();
      return answer(std::move(a));
    }
    pump();
  });
}

void StreamedSubmission::abort(std::string why) {
  post([this, why = std::move(why)] {
    ended_ = true;
    if (!failed_) fail(Problem::make(ProblemKind::bad_request, "the upload ended early: " + why));
  });
}

void StreamedSubmission::take(std::string bytes) {
  if (failed_) return crypto::cleanse(bytes);  // drained: the answer is known
  // The head is looked for once a chunk's worth has arrived, so the window is never smaller.
  const size_t window = std::max(options_.head_window_bytes, options_.chunk_bytes);
  if (!decision_ && total_ < window && total_ + bytes.size() > window) {
    // A piece that crosses the window's end: the head must be complete within the
    // window itself, whatever size the pieces come in, so look at exactly that much.
    std::string rest = bytes.substr(window - total_);
    bytes.resize(window - total_);
    take_piece(std::move(bytes), window);
    if (!failed_ && !decision_ && !route_head() && !failed_) fail(head_not_within(window));
    if (failed_) return crypto::cleanse(rest);
    return take_piece(std::move(rest), window);
  }
  take_piece(std::move(bytes), window);
}

Problem StreamedSubmission::head_not_within(size_t window) const {
  return Problem::make(ProblemKind::missing_routing_header,
                       "the routing head (nachrichtenkopf) is not complete within the first " + std::to_string(window) +
                           " bytes; a large message must carry its head at the start");
}

void StreamedSubmission::take_piece(std::string bytes, size_t window) {
  total_ += bytes.size();
  if (total_ > options_.max_message_bytes)
    return fail(Problem::make(ProblemKind::payload_too_large,
                              "the body exceeds the limit of " + std::to_string(options_.max_message_bytes) + " bytes"));
  if (auto fed = inspector_.feed(bytes); !fed) return fail(std::move(fed).problem());
  pending_.append(bytes);
  crypto::cleanse(bytes);
  if (!decision_ && pending_.size() > options_.chunk_bytes && !route_head() && !failed_ && pending_.size() > window)
    fail(head_not_within(window));
}

// False while the head is not complete yet (or after a failure).
bool StreamedSubmission::route_head() {
  auto head = inspector_.head();
  if (!head) return false;
  if (!*head) {
    fail(std::move(*head).problem());
    return false;
  }
  head_ = std::move(*head).value();
  if (check_)
    if (auto allowed = check_(head_); !allowed) {
      fail(std::move(allowed).problem());
      return false;
    }
  auto decision = snapshot_->router().route(head_);
  if (!decision) {
    fail(std::move(decision).problem());
    return false;
  }
  decision_ = *decision;
  accepted_at_ = rfc3339_now();
  if (head_.message_id.empty()) {
    seq_ = random_uuid();  // the id is derived from the whole body, known at the end
    return true;
  }
  seq_ = head_.message_id;
  // A message id already accepted is answered from what is known; nothing is produced.
  auto self = shared_from_this();
  auto first = pipeline_.join_in_flight(head_.message_id, [self](Result<Acceptance> r) {
    self->post([self, r = std::move(r)]() mutable { self->answer(std::move(r)); });
  });
  if (first) {
    registered_ = true;
    return true;
  }
  // Accepted before, or being accepted: the pipeline answers; the rest of the body is drained.
  resend_ = true;
  failed_ = Problem::make(ProblemKind::internal, "answered as a resend");
  return false;
}

void StreamedSubmission::pump() {
  if (failed_) {
    if (more_) std::exchange(more_, nullptr)();
    return;
  }
  if (waiting_backlog_ || last_sent_) return;
  // Up to kChunksInFlight chunks wait for their acks at once (one partition, idempotent
  // producer: they stay in order), so an upload is not paced by the broker's round trip.
  while (decision_ && pending_.size() > options_.chunk_bytes && in_flight_ < kChunksInFlight) {
    std::string chunk = pending_.substr(0, options_.chunk_bytes);
    pending_.erase(0, options_.chunk_bytes);
    produce_chunk(std::move(chunk), false);
    if (waiting_backlog_ || failed_) return;
  }
  if (decision_ && pending_.size() > options_.chunk_bytes) return;  // the window is full: read on after an ack
  if (more_) return std::exchange(more_, nullptr)();
  if (ended_ && !completing_) {
    completing_ = true;
    complete();
  }
}

Envelope StreamedSubmission::chunk_record(std::string plaintext) const {
  Message message = IngestPipeline::accepted_message(head_, *decision_, accepted_at_, traceparent_);
  message.message_id = seq_;  // the sequence's key (the id itself may only be known at the end)
  message.body = std::move(plaintext);
  return to_record(std::move(message), decision_->destination->topic);
}

void StreamedSubmission::produce_chunk(std::string plaintext, bool last) {
  const DestinationSection& dest = *decision_->destination;
  const size_t sealed_estimate = BacklogMonitor::sealed_size_estimate(plaintext.size());
  if (waiter_ && !pipeline_.backlog_->admits(dest.topic, sealed_estimate)) {
    waiting_backlog_ = true;
    pending_.insert(0, plaintext);  // back in front, taken again when admitted
    crypto::cleanse(plaintext);
    auto self = shared_from_this();
    waiter_->when_admitted(dest.topic, sealed_estimate, options_.backlog_stall,
                           [self, last](bool admitted) {
                             self->post([self, admitted, last] {
                               self->waiting_backlog_ = false;
                               if (!admitted) {
                                 ++self->pipeline_.counters_.backlog_refusals;
                                 return self->fail(Problem::make(
                                     ProblemKind::backlog_full,
                                     "destination '" + self->decision_->destination->id +
                                         "' has taken nothing from its topic for " +
                                         std::to_string(self->options_.backlog_stall.count()) +
                                         " s: its deliverer is stopped or stuck. Retry later."));
                               }
                               if (!last) return self->pump();
                               std::string rest = std::move(self->pending_);
                               self->pending_.clear();
                               self->produce_chunk(std::move(rest), true);
                             });
                           });
    return;
  }
  Envelope env = chunk_record(std::move(plaintext));
  env.set(header::routing_version, snapshot_->routing_version());
  crypto::ChunkClaims claims;
  claims.seq = seq_;
  claims.index = chunks_;
  claims.last = last;
  if (last) {
    claims.count = chunks_ + 1;
    claims.size = total_;
    claims.sha256 = crypto::base64url_encode(digest_);
    claims.message_id = head_.message_id;
  }
  ++in_flight_;
  if (last) last_sent_ = true;
  ++chunks_;
  // Sealed on another of the pool's threads, outside mu_, while this one parses on: the
  // upload is one ordered stream, and sealing (encryption, base64, two hashes, a
  // signature) is a third of its CPU. on_sealed puts the chunks back in order.
  auto self = shared_from_this();
  // The snapshot is the submission's for its whole life (held by self): its keys stay.
  const crypto::KeyRing* keys = &snapshot_->encryption_keys(dest.id);
  const bool posted = workers_.try_post([self, keys, env = std::move(env), claims = std::move(claims)]() mutable {
    const auto seal_start = std::chrono::steady_clock::now();
    auto sealed = crypto::seal_chunk(env, claims, *keys, self->snapshot_->signing_key());
    self->pipeline_.counters_.seal_seconds.observe(std::chrono::steady_clock::now() - seal_start);
    Result<Envelope> result = sealed ? Result<Envelope>(std::move(env)) : Result<Envelope>(std::move(sealed).problem());
    self->post([self, index = claims.index, result = std::move(result)]() mutable {
      self->on_sealed(index, std::move(result));
    });
  });
  if (!posted) {
    --in_flight_;
    fail(Problem::make(ProblemKind::internal, "the gateway is stopping"));
  }
}

void StreamedSubmission::on_sealed(uint64_t index, Result<Envelope> sealed) {
  if (failed_) {  // given up meanwhile: never produced (the abort record names what was)
    --in_flight_;
    if (sealed) crypto::cleanse(sealed->value);
    return pump();
  }
  if (!sealed) {
    --in_flight_;
    spdlog::error("cannot seal chunk {} of {} for {}: {}", index, seq_, decision_->destination->id,
                  sealed.problem().one_line());
    return fail(Problem::make(ProblemKind::internal, "the message could not be encrypted for its destination"));
  }
  sealed_.emplace(index, std::move(sealed).value());
  // In order, one partition, idempotent producer: the deliverer sees 0, 1, 2, ...
  while (!sealed_.empty() && sealed_.begin()->first == produced_) {
    Envelope env = std::move(sealed_.begin()->second);
    sealed_.erase(sealed_.begin());
    if (produced_ + 1 == chunks_ && last_sent_) last_produced_ = true;
    ++produced_;
    const size_t bytes = env.key.size() + env.value.size();
    auto self = shared_from_this();
    const std::string topic = decision_->destination->topic;
    pipeline_.sink_.produce(std::move(env), [self, topic, bytes](Result<BrokerAck> ack) {
      if (ack && self->pipeline_.backlog_) self->pipeline_.backlog_->record_produced(topic, ack->partition, ack->offset, bytes);
      self->post([self, ack = std::move(ack)]() mutable { self->on_ack(std::move(ack)); });
    });
  }
}

void StreamedSubmission::on_ack(Result<BrokerAck> ack) {
  --in_flight_;
  if (!ack) {
    if (failed_) return;
    ++pipeline_.counters_.broker_failures;
    last_produced_ = false;  // not acknowledged: the sequence is aborted below
    return fail(std::move(ack).problem());
  }
  if (failed_) return pump();
  // 202 only once every chunk, the last included, is acknowledged.
  if (last_sent_ && in_flight_ == 0) {
    ++pipeline_.counters_.accepted;
    logging::event(spdlog::level::info, "message accepted",
                   {{"messageId", head_.message_id},
                    {"destination", decision_->destination->id},
                    {"standard", head_.standard},
                    {"messageType", head_.message_type.display()},
                    {"bytes", static_cast<long long>(total_)},
                    {"chunks", static_cast<long long>(chunks_)},
                    {"traceparent", traceparent_}});
    nlohmann::json body = {{"messageId", head_.message_id}, {"destination", decision_->destination->id},
                           {"status", "accepted"}, {"standard", head_.standard},
                           {"messageType", head_.message_type.display()}, {"size", total_}, {"chunks", chunks_}};
    return pipeline_.finish(head_.message_id, Acceptance{202, std::move(body)}, &*receipt_);
  }
  if (!last_sent_) pump();
}

void StreamedSubmission::complete() {
  Inspection inspected = inspector_.finish();
  // The inspector hashed every byte on the way (the last chunk signs this digest); it
  // has none only after a failed feed, and then this submission failed already.
  if (auto digest = inspector_.body_sha256()) {
    digest_.assign(reinterpret_cast<const char*>(digest->data()), digest->size());
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned char c : digest_) {
      sha256_hex_.push_back(kHex[c >> 4]);
      sha256_hex_.push_back(kHex[c & 15]);
    }
  } else if (!inspected.problem) {
    return fail(Problem::make(ProblemKind::internal, "the body's SHA-256 is missing"));
  }
  if (inspected.parse_time) pipeline_.counters_.parse_seconds.observe(*inspected.parse_time);
  if (inspected.validate_time) pipeline_.counters_.validate_seconds.observe(*inspected.validate_time);
  if (inspected.problem) return fail(std::move(*inspected.problem));
  if (chunks_ == 0) {
    // Small after all (chunked transfer of a short body): the single-record path.
    std::string body = std::move(pending_);
    pending_.clear();
    auto self = shared_from_this();
    return pipeline_.submit(
        std::move(body), traceparent_,
        [self](Result<Acceptance> r) { self->post([self, r = std::move(r)]() mutable { self->answer(std::move(r)); }); },
        check_, sender_);
  }
  // The head as the whole document shows it may hold more than the early one (an
  // optional field after the attachments, as in XRechnung): it is what the last chunk
  // carries, as long as it is the same message, allowed and routed the same way.
  const bool derived = seq_ != head_.message_id;
  RoutingHeader final_head = inspected.header;
  if (!derived && final_head.message_id != head_.message_id)
    return fail(Problem::make(ProblemKind::invalid_routing_field,
                              "the message id changed after the message was routed; a large message carries one head"));
  if (check_)
    if (auto allowed = check_(final_head); !allowed) return fail(std::move(allowed).problem());
  auto final_decision = snapshot_->router().route(final_head);
  if (!final_decision) return fail(std::move(final_decision).problem());
  if (final_decision->destination != decision_->destination || final_decision->route != decision_->route)
    return fail(Problem::make(ProblemKind::invalid_routing_field,
                              "the whole document routes to '" + final_decision->destination->id + "' (route " +
                                  final_decision->route + "), its head as first read to '" + decision_->destination->id +
                                  "': a large message must carry its routing fields at its start"));
  const std::string early_id = head_.message_id;
  head_ = std::move(final_head);
  if (!derived) head_.message_id = early_id;
  if (derived) {
    // head_.message_id is the id derived from the whole body
    auto self = shared_from_this();
    if (!pipeline_.join_in_flight(head_.message_id, [self](Result<Acceptance> r) {
          self->post([self, r = std::move(r)]() mutable { self->answer(std::move(r)); });
        })) {
      // Accepted before (or being accepted): that answer comes; this sequence is dropped.
      resend_ = true;
      return fail(Problem::make(ProblemKind::internal, "answered as a resend"));
    }
    registered_ = true;
  }
  Receipt r;
  r.message_id = head_.message_id;
  r.destination = decision_->destination->id;
  r.status = ReceiptStatus::accepted;
  r.at = accepted_at_;
  r.detail = "accepted for " + r.destination + " (" + std::to_string(total_) + " bytes in " +
             std::to_string(chunks_ + 1) + " chunks)";
  r.standard = head_.standard;
  r.message_type = head_.message_type.display();
  r.route = decision_->route;
  r.routing_version = snapshot_->routing_version();
  r.traceparent = traceparent_;
  r.sender = sender_;
  r.size = total_;
  r.chunks = chunks_ + 1;
  receipt_ = std::move(r);
  std::string last = std::move(pending_);
  pending_.clear();
  produce_chunk(std::move(last), true);
}

void StreamedSubmission::fail(Problem problem) {
  if (!failed_) failed_ = problem;
  crypto::cleanse(pending_);
  pending_.clear();
  // Sealed but not produced yet: never will be (chunks still being sealed are dropped
  // when they come back, on_sealed).
  in_flight_ -= sealed_.size();
  for (auto& [index, env] : sealed_) crypto::cleanse(env.value);
  sealed_.clear();
  // A sequence already on the topic is closed with an abort record right after what was
  // produced of it, so deliverers drop it now rather than after their timeout. Best
  // effort: their timeout covers a loss.
  if (produced_ > 0 && !last_produced_ && decision_) {
    last_sent_ = true;
    last_produced_ = true;
    const DestinationSection& dest = *decision_->destination;
    Envelope env = chunk_record({});
    crypto::ChunkClaims claims;
    claims.seq = seq_;
    claims.index = produced_;
    claims.last = true;
    claims.abort = problem.slug();
    if (crypto::seal_chunk(env, claims, snapshot_->encryption_keys(dest.id), snapshot_->signing_key()))
      pipeline_.sink_.produce(std::move(env), [seq = seq_](Result<BrokerAck> ack) {
        if (!ack) spdlog::warn("abort record of sequence {} not stored ({}); deliverers drop it after their timeout", seq,
                               ack.problem().detail);
      });
  }
  if (resend_) return;  // the pipeline answers with the original acceptance
  if (registered_) {
    registered_ = false;
    return pipeline_.finish(head_.message_id, std::move(problem));
  }
  pipeline_.count_refusal(problem);
  answer(std::move(problem));
}

void StreamedSubmission::answer(Result<Acceptance> result) {
  if (more_) std::exchange(more_, nullptr)();  // drain what the sender still sends
  if (!done_) {
    if (!answer_) answer_ = std::move(result);
    return;
  }
  auto done = std::exchange(done_, nullptr);
  done(std::move(result));
}

}  // namespace xoev
