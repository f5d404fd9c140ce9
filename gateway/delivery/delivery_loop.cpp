#include "gateway/delivery/delivery_loop.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <map>
#include <thread>
#include <unordered_set>

#include "gateway/audit/audit_log.h"
#include "gateway/config/outbound_registry.h"
#include "gateway/core/clock.h"
#include "gateway/core/log_format.h"
#include "gateway/crypto/base64url.h"
#include "gateway/crypto/chunk_seal.h"
#include "gateway/crypto/envelope_seal.h"
#include "gateway/core/routing_fields.h"
#include "gateway/crypto/jws.h"
#include "gateway/delivery/hand_over_follower.h"
#include "gateway/crypto/key_file.h"
#include "gateway/crypto/openssl_util.h"
#include "gateway/kafka/consumer_service.h"
#include "gateway/kafka/message_record.h"
#include "gateway/kafka/topic_names.h"
#include "gateway/status/receipt_signature.h"

namespace xoev {
namespace {

bool same_public_key(const crypto::Jwk& a, const crypto::Jwk& b) {
  const auto ja = a.to_json(false), jb = b.to_json(false);
  for (const char* member : {"kty", "crv", "x", "y"})
    if (ja.value(member, "") != jb.value(member, "")) return false;
  return true;
}

// adapter.signing_key, else keys.signing when this host holds it (in-process deliverers).
Result<crypto::Jwk> load_receipt_signing_key(const Config& config, const DestinationSection& destination) {
  std::optional<fs::path> file = destination.adapter.signing_key;
  std::error_code ec;
  if (!file && config.keys.signing && fs::exists(*config.keys.signing, ec)) file = config.keys.signing;
  if (!file)
    return Problem::make(ProblemKind::config_invalid,
                         "destination '" + destination.id + "' has no key to sign its receipts: set adapter.signing_key "
                         "(a private ES256/EdDSA JWK whose public half is in keys.trusted_deliverers)");
  auto key = crypto::load_jwk_file(*file);
  if (!key) return key.problem();
  if (!key->is_private() || !crypto::jws_alg_for(*key))
    return Problem::make(ProblemKind::config_invalid, "destination '" + destination.id + "': " + file->string() +
                                                          " is not a private ES256/EdDSA key; receipts cannot be signed");
  // Receipts nobody trusts would be ignored by every reader: the status would never move.
  if (auto readers = load_receipt_signers(config.keys); !readers) {
    spdlog::warn("deliverer '{}': cannot check that readers trust its receipt key: {}", destination.id,
                 readers.problem().detail);
  } else {
    const crypto::Jwk* trusted = readers->find(key->kid());
    if (trusted == nullptr || !same_public_key(*trusted, *key))
      return Problem::make(ProblemKind::config_invalid,
                           "destination '" + destination.id + "' signs its receipts with kid=" + key->kid() + " (" +
                               file->string() + "), whose public half is in neither keys.trusted_gateways nor "
                               "keys.trusted_deliverers: every reader would ignore its receipts");
  }
  return key;
}

// Problems of crypto::open() that come after the signature was verified: then the
// record's id is authentic and a receipt may speak about it. Anything else (unsigned,
// JWS, "signature ...", or an unexpected text) counts as not verified.
bool signature_was_verified(const Problem& p) {
  return p.detail.rfind("JWE:", 0) == 0 || p.detail.rfind("protected header", 0) == 0;
}

std::string origin(const ConsumedRecord& r) {
  return r.env.topic + "/" + std::to_string(r.partition) + "/" + std::to_string(r.offset);
}

}  // namespace

Result<std::unique_ptr<DeliveryLoop>> DeliveryLoop::create(const Config& config, const DestinationSection& destination,
                                                           RecordSink& sink, BacklogMonitor* dead_letter_backlog) {
  Parts parts;
  parts.destination = destination;
  parts.dead_letter_backlog = dead_letter_backlog;
  auto signing = load_receipt_signing_key(config, destination);
  if (!signing) return signing.problem();
  parts.signing_key = std::move(signing).value();
  auto trusted = crypto::load_key_ring(config.keys.trusted_gateways);
  if (!trusted) return trusted.problem();
  if (trusted->empty())
    return Problem::make(ProblemKind::config_invalid, "keys.trusted_gateways is empty: the deliverer could verify no message");
  parts.trusted = std::move(trusted).value();
  auto decryption = crypto::load_key_ring(destination.adapter.decryption_keys);
  if (!decryption) return decryption.problem();
  parts.decryption = std::move(decryption).value();
  auto ledger = DeliveredLedger::open(destination.adapter.state_directory / (destination.id + ".delivered"),
                                      std::chrono::duration_cast<std::chrono::hours>(destination.adapter.dedupe_window));
  if (!ledger) return ledger.problem();
  parts.ledger = std::move(ledger).value();
  auto adapter = outbound_registry::create(destination);
  if (!adapter) return adapter.problem();
  parts.adapter = std::move(adapter).value();
  if (dynamic_cast<HandOver*>(parts.adapter.get()) != nullptr) {
    auto forwarded = ForwardedLedger::open(destination.adapter.state_directory / (destination.id + ".forwarded"));
    if (!forwarded) return forwarded.problem();
    parts.forwarded = std::move(forwarded).value();
  }
  auto assembler = ChunkAssembler::open(destination.adapter.state_directory / (destination.id + ".chunks"),
                                       std::chrono::duration_cast<std::chrono::seconds>(destination.adapter.chunk_timeout),
                                       config.gateway.max_message_bytes);
  if (!assembler) return assembler.problem();
  parts.assembler = std::move(assembler).value();
  return std::make_unique<DeliveryLoop>(std::move(parts), sink);
}

DeliveryLoop::DeliveryLoop(Parts parts, RecordSink& sink)
    : destination_(std::move(parts.destination)),
      trusted_(std::move(parts.trusted)),
      decryption_(std::move(parts.decryption)),
      adapter_(std::move(parts.adapter)),
      ledger_(std::move(parts.ledger)),
      hand_over_(dynamic_cast<HandOver*>(adapter_.get())),
      forwarded_(std::move(parts.forwarded)),
      assembler_(std::move(parts.assembler)),
      dead_letter_backlog_(parts.dead_letter_backlog),
      sink_(sink),
      receipts_(sink, std::move(parts.signing_key).value()) {}

void DeliveryLoop::run(RecordSource& source, const std::stop_token& stop) {
  spdlog::info("deliverer for '{}' consuming {} as group {} ({} adapter)", destination_.id, destination_.topic,
               names::consumer_group(destination_.id), adapter_->type());
  if (hand_over_ && !forwarded_) {
    spdlog::error("deliverer '{}': its adapter hands messages on but has no forwarded ledger", destination_.id);
    return;
  }
  // Asks the next gateway for final statuses while this thread delivers; stopped and
  // joined when run() returns (it uses adapter_, forwarded_ and receipts_, which outlive it).
  std::optional<HandOverFollower> follower;
  std::jthread follow_up;
  if (hand_over_) {
    follower.emplace(destination_.id, *hand_over_, *forwarded_, receipts_);
    follow_up = std::jthread([&follower](std::stop_token own) { follower->run(own); });
  }
  auto last_error_log = std::chrono::steady_clock::time_point{};
  auto last_lag = std::chrono::steady_clock::time_point{};
  auto last_expiry = std::chrono::steady_clock::now();
  // Whether this member holds partitions (their offsets known), as of the last lag sample.
  bool assigned = false;
  auto report = [&](const Problem& p) {
    // Transient (broker away, topic not there yet): keep polling, log at most every 10 s.
    if (std::chrono::steady_clock::now() - last_error_log > std::chrono::seconds(10)) {
      spdlog::warn("deliverer '{}': {}", destination_.id, p.detail);
      last_error_log = std::chrono::steady_clock::now();
    }
  };
  std::vector<ConsumedRecord> batch;
  while (!stop.stop_requested()) {
    if (std::chrono::steady_clock::now() - last_lag > std::chrono::seconds(1)) {
      auto lag = source.lag();
      last_lag = std::chrono::steady_clock::now();
      assigned = !lag.empty();
      std::lock_guard lock(lag_mu_);
      lag_ = std::move(lag);
    }
    if (assembler_ && std::chrono::steady_clock::now() - last_expiry > std::chrono::seconds(5)) {
      if (assigned && chunked_sequences_may_expire(source)) expire_chunk_sequences();
      last_expiry = std::chrono::steady_clock::now();
    }
    auto polled = source.poll(std::chrono::milliseconds(200));
    if (!polled) {
      report(polled.problem());
      continue;
    }
    if (!polled->has_value()) continue;
    // Then whatever the consumer has already fetched, without waiting for more.
    batch.clear();
    size_t bytes = (*polled)->env.value.size();
    batch.push_back(std::move(**polled));
    while (batch.size() < static_cast<size_t>(destination_.adapter.max_group) && bytes < kMaxGroupBytes) {
      auto more = source.poll(std::chrono::milliseconds(0));
      if (!more) {
        report(more.problem());
        break;
      }
      if (!more->has_value()) break;
      bytes += (*more)->env.value.size();
      batch.push_back(std::move(**more));
    }
    if (handle_batch(source, batch, stop) == Handled::stopped) break;
  }
  forget_unsettled_chunks();  // stopped mid-batch: they point into it, and are read again
  std::lock_guard lock(lag_mu_);
  lag_.clear();  // the partitions go to another member
}

std::vector<PartitionLag> DeliveryLoop::lag() const {
  std::lock_guard lock(lag_mu_);
  return lag_;
}

bool DeliveryLoop::publish_and_wait(const Receipt& r) {
  auto done = std::make_shared<std::promise<Status>>();
  auto result = done->get_future();
  receipts_.publish(r, [done](Status s) { done->set_value(std::move(s)); });
  return result.get().ok();
}

bool DeliveryLoop::dead_letter(const ConsumedRecord& record, const std::string& reason, int attempts, bool unverified) {
  Envelope env = record.env;  // still encrypted and signed: replay puts it back unchanged
  env.topic = names::dlq_topic(destination_.id);
  if (unverified) env.key = origin(record);  // it speaks for no message id
  env.set(header::dlq_reason, reason);
  env.set(header::dlq_attempts, std::to_string(attempts));
  env.set(header::dlq_topic, record.env.topic);
  env.set(header::dlq_partition, std::to_string(record.partition));
  env.set(header::dlq_offset, std::to_string(record.offset));
  if (unverified) env.set(header::dlq_unverified, "true");
  size_t bytes = env.key.size() + env.value.size();
  for (const auto& [k, v] : env.headers) bytes += k.size() + v.size();
  // The mock cluster drops the oldest records of a full partition, dead letters too:
  // wait (the record stays in its topic, uncommitted) rather than lose one.
  if (dead_letter_backlog_ && !dead_letter_backlog_->admits(env.topic, bytes)) {
    ++counters_.dead_letter_waits;
    spdlog::warn("deliverer '{}': dead-letter topic {} is near the cluster's per-partition limit; holding {} in {}",
                 destination_.id, env.topic, origin(record), destination_.topic);
    return false;
  }
  const std::string topic = env.topic;
  auto done = std::make_shared<std::promise<Result<BrokerAck>>>();
  auto result = done->get_future();
  sink_.produce(std::move(env), [done](Result<BrokerAck> d) { done->set_value(std::move(d)); });
  const Result<BrokerAck> ack = result.get();
  if (!ack) {
    spdlog::error("dead letter of {} not stored: {}", origin(record), ack.problem().detail);
    return false;
  }
  if (dead_letter_backlog_) dead_letter_backlog_->record_produced(topic, ack->partition, ack->offset, bytes);
  return true;
}

DeliveryLoop::Handled DeliveryLoop::refuse_unverified(RecordSource& source, const ConsumedRecord& record,
                                                      const std::string& why, const std::stop_token& stop) {
  ++counters_.unverified;
  // Everything in this record is the writer's choice: escaped, and no receipt for its id.
  spdlog::error("deliverer '{}': record {} refused, not verifiably a message for '{}' (claims id \"{}\"): {}",
                destination_.id, origin(record), destination_.id, printable(record.env.get(header::message_id)),
                printable(why, 200));
  if (!until_done(stop, "dead letter of " + origin(record),
                  [&] { return dead_letter(record, "unverified: " + why, 0, true); }))
    return Handled::stopped;
  if (observe_decisions_)  // its claimed id is the writer's choice: only the origin is named
    observe_decisions_({.event = "dead-lettered", .payload_sha256 = audit::sha256_hex(record.env.value),
                        .destination = destination_.id, .result = "unverified",
                        .detail = origin(record) + ": " + why, .payload_hashed = "record-value"});
  if (auto c = source.commit(record); !c)
    spdlog::warn("commit of {} failed ({}); it will be refused again", origin(record), c.problem().detail);
  return Handled::committed;
}

template <class Attempt>
bool DeliveryLoop::until_done(const std::stop_token& stop, const std::string& what, Attempt attempt) {
  std::chrono::milliseconds wait{200};
  for (int tries = 1;; ++tries) {
    if (attempt()) return true;
    spdlog::warn("deliverer '{}': {} failed (try {}); retrying in {} ms", destination_.id, what, tries, wait.count());
    if (!sleep_unless_stopped(stop, wait)) return false;
    wait = std::min(wait * 2, std::chrono::milliseconds(10000));
  }
}

std::chrono::milliseconds DeliveryLoop::backoff(int attempt) {
  // Exponential with full jitter: spreads retries of many deliverers after an outage.
  const auto& a = destination_.adapter;
  const double base = static_cast<double>(a.initial_backoff.count()) * std::pow(2.0, attempt - 1);
  const double capped = std::min(base, static_cast<double>(a.max_backoff.count()));
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(capped * jitter(rng_)));
}

// Every receipt of a message carries the steps before it, starting with the
// acceptance time from the signed header, so the newest receipt alone is the whole status.
class DeliveryLoop::ReceiptTrail {
 public:
  // `id`: the message's id when it is not the record's (a chunked message whose id was
  // derived from its content names it in its last chunk).
  ReceiptTrail(const ConsumedRecord& record, std::string destination, std::string id = {})
      : id_(id.empty() ? record.env.get(header::message_id) : std::move(id)),
        destination_(std::move(destination)),
        route_(record.env.get(header::route)),
        traceparent_(record.env.get(header::traceparent)),
        routing_version_(record.env.get(header::routing_version)) {
    if (const auto accepted = record.env.get(header::accepted_at); !accepted.empty())
      so_far_.emplace_back(ReceiptStatus::accepted, accepted);
  }
  Receipt next(ReceiptStatus s, std::string detail) {
    Receipt r;
    r.message_id = id_;
    r.destination = destination_;
    r.status = s;
    r.at = rfc3339_now();
    r.detail = std::move(detail);
    r.history = so_far_;
    r.route = route_;
    r.traceparent = traceparent_;
    r.routing_version = routing_version_;  // a compacted xoev.receipts keeps only the newest receipt
    r.size = size;
    r.chunks = chunks;
    so_far_.emplace_back(s, r.at);
    return r;
  }
  // For the audit line: the SHA-256 of the plaintext once decrypted, else of the record
  // value. The record value's is taken only if an audit line asks for it (a refusal):
  // hashing every chunk of a large message twice more cost its deliverer a quarter of
  // its CPU. `bytes` must outlive the trail's use (the record, held for the batch).
  void hash_payload(std::string_view bytes, const char* what) { set_payload_hash(audit::sha256_hex(bytes), what); }
  void hash_payload_if_asked(std::string_view bytes, const char* what) {
    payload_sha256_.clear();
    payload_hashed_ = what;
    unhashed_ = bytes;
  }
  void set_payload_hash(std::string sha256_hex, std::string what) {
    payload_sha256_ = std::move(sha256_hex);
    payload_hashed_ = std::move(what);
    unhashed_ = {};
  }
  const std::string& payload_sha256() const {
    if (unhashed_.data() != nullptr) payload_sha256_ = audit::sha256_hex(std::exchange(unhashed_, {}));
    return payload_sha256_;
  }
  const std::string& payload_hashed() const { return payload_hashed_; }
  const std::string& id() const { return id_; }
  uint64_t size = 0, chunks = 0;  // large messages: reported in every receipt

 private:
  std::string id_, destination_, route_, traceparent_, routing_version_;
  std::vector<std::pair<ReceiptStatus, std::string>> so_far_;
  mutable std::string payload_sha256_;  // filled from unhashed_ when first asked
  mutable std::string_view unhashed_;
  std::string payload_hashed_;
};

struct DeliveryLoop::Screened {
  enum class Verdict { ready, unverified, undecryptable, duplicate, chunk };
  Verdict verdict = Verdict::ready;
  std::string why;  // unverified, undecryptable
  Message message;  // ready: verified and decrypted
  std::optional<crypto::OpenedChunk> chunk;  // chunk: verified and decrypted
  std::unique_ptr<ReceiptTrail> trail;
};

DeliveryLoop::Screened DeliveryLoop::screen(const ConsumedRecord& record) const {
  using Verdict = Screened::Verdict;
  Screened s;
  s.trail = std::make_unique<ReceiptTrail>(record, destination_.id);
  if (observe_decisions_) s.trail->hash_payload_if_asked(record.env.value, "record-value");
  // Nothing about a record is known before its signature is verified, so the ledger
  // comes after it. A record whose (signed) destination is not ours is refused before
  // that: refusing needs no trust, and its failed decryption must not reach its id.
  const std::string* claimed_destination = record.env.find(header::destination);
  if (claimed_destination == nullptr || *claimed_destination != destination_.id) {
    s.verdict = Verdict::unverified;
    s.why = "its xoev-destination \"" + printable(claimed_destination ? *claimed_destination : "") +
            "\" is not this deliverer's";
    return s;
  }
  if (crypto::is_chunk_record(record.env)) {
    auto chunk = crypto::open_chunk(record.env, trusted_, decryption_);
    if (!chunk) {
      s.verdict = signature_was_verified(chunk.problem()) && !record.env.get(header::message_id).empty()
                      ? Verdict::undecryptable
                      : Verdict::unverified;
      s.why = chunk.problem().detail;
      return s;
    }
    s.verdict = Verdict::chunk;
    s.chunk = std::move(chunk).value();
    return s;
  }
  auto opened = crypto::open(record.env, trusted_, decryption_);
  if (!opened && !signature_was_verified(opened.problem())) {
    s.verdict = Verdict::unverified;
    s.why = opened.problem().detail;
    return s;
  }
  // The signed header, never the (unsigned) record key.
  const std::string id = record.env.get(header::message_id);
  if (id.empty()) {  // signed as absent: nothing to speak about
    if (opened) crypto::cleanse(*opened);
    s.verdict = Verdict::unverified;
    s.why = "the signed record has no xoev-message-id";
    return s;
  }
  if (opened && observe_decisions_) s.trail->hash_payload(*opened, "plaintext");
  if (!opened) {
    s.verdict = Verdict::undecryptable;
    s.why = opened.problem().detail;
    return s;
  }
  // Delivered before (a crash came between delivery and commit, or a verified replay): never again.
  if (ledger_->contains(id)) {
    crypto::cleanse(*opened);
    s.verdict = Verdict::duplicate;
    return s;
  }
  s.message = from_record(record.env);  // verified headers: open() checked the signature
  s.message.message_id = id;
  s.message.destination = destination_.id;
  s.message.body = std::move(opened).value();
  return s;
}

std::vector<DeliveryLoop::Screened> DeliveryLoop::screen_all(const std::vector<ConsumedRecord>& records) const {
  std::vector<Screened> out(records.size());
  const size_t workers = std::min<size_t>({records.size(), std::max(1u, std::thread::hardware_concurrency()), 4});
  auto work = [&](size_t first) {
    for (size_t i = first; i < records.size(); i += workers) out[i] = screen(records[i]);
  };
  std::vector<std::future<void>> helpers;
  for (size_t w = 1; w < workers; ++w) helpers.push_back(std::async(std::launch::async, work, w));
  work(0);
  for (auto& h : helpers) h.get();
  return out;
}

DeliveryLoop::Handled DeliveryLoop::handle_batch(RecordSource& source, const std::vector<ConsumedRecord>& records,
                                                 const std::stop_token& stop) {
  std::vector<Screened> screened = screen_all(records);
  // Only an adapter whose repeats are invisible takes groups (OutboundAdapter::
  // delivers_groups); a hand-over adapter (another gateway) is never one.
  const bool grouped = adapter_->delivers_groups() && !hand_over_;
  // Ids this batch already gave the adapter. Screening ran before any of them was
  // delivered, so a record whose twin went first is screened again: the ledger decides.
  std::unordered_set<std::string> handed;
  auto fresh = [&](size_t i) -> Screened {
    Screened& s = screened[i];
    if (s.verdict == Screened::Verdict::ready && handed.count(s.message.message_id)) return screen(records[i]);
    return std::move(s);
  };
  size_t next = 0;
  while (next < records.size()) {
    // The longest run of ready records with ids not yet handed goes to the adapter together.
    std::vector<const ConsumedRecord*> run;
    std::vector<Screened> group;
    for (; grouped && next < records.size(); ++next) {
      Screened& s = screened[next];
      if (s.verdict != Screened::Verdict::ready || !handed.insert(s.message.message_id).second) break;
      run.push_back(&records[next]);
      group.push_back(std::move(s));
    }
    if (!group.empty() && (settle_chunks(source, stop) == Handled::stopped ||
                           deliver_together(source, run, group, stop) == Handled::stopped))
      return Handled::stopped;
    if (next == records.size()) break;
    // A chunk settles what came before it itself, when it needs to (handle_chunk).
    if (screened[next].verdict != Screened::Verdict::chunk && settle_chunks(source, stop) == Handled::stopped)
      return Handled::stopped;
    Screened alone = fresh(next);
    if (alone.verdict == Screened::Verdict::ready) handed.insert(alone.message.message_id);
    if (handle(source, records[next], std::move(alone), stop) == Handled::stopped) return Handled::stopped;
    ++next;
  }
  return settle_chunks(source, stop);
}

DeliveryLoop::Handled DeliveryLoop::settle_chunks(RecordSource& source, const std::stop_token& stop) {
  if (unsettled_chunks_.empty()) return Handled::committed;
  const bool durable = until_done(stop, "making " + std::to_string(unsettled_chunks_.size()) + " chunks durable", [&] {
    // Adding again is a no-op for a chunk held; after a failed flush it writes the
    // chunks of the sequence put back, in order.
    for (const auto& u : unsettled_chunks_) {
      auto again = assembler_->add(u.chunk, {}, ChunkAssembler::Durability::at_flush);  // index > 0: no metadata
      if (!again && again.problem().kind == ProblemKind::io_error) return false;
    }
    std::vector<std::string> rolled_back;
    auto flushed = assembler_->flush(&rolled_back);
    if (!flushed) spdlog::error("deliverer '{}': {}", destination_.id, flushed.problem().detail);
    return flushed.ok();
  });
  if (!durable) {  // stopping: nothing committed; the chunks are read again and skipped or rewritten
    forget_unsettled_chunks();
    return Handled::stopped;
  }
  std::map<std::pair<std::string, int32_t>, const ConsumedRecord*> last;
  for (const auto& u : unsettled_chunks_) last[{u.record->env.topic, u.record->partition}] = u.record;
  for (const auto& [where, record] : last)
    if (auto c = source.commit(*record); !c)
      spdlog::warn("commit of {} failed ({}); its chunks will be read again and skipped", origin(*record),
                   c.problem().detail);
  forget_unsettled_chunks();
  return Handled::committed;
}

void DeliveryLoop::forget_unsettled_chunks() {
  for (auto& u : unsettled_chunks_) crypto::cleanse(u.chunk.plaintext);
  unsettled_chunks_.clear();
}

void DeliveryLoop::count_delivered(const ConsumedRecord& record, const Message& m,
                                   std::chrono::nanoseconds deliver_time) {
  ++counters_.delivered;
  counters_.deliver_seconds.observe(deliver_time);
  logging::Fields fields{{"messageId", m.message_id},
                         {"destination", destination_.id},
                         {"attempt", static_cast<long long>(m.attempt)},
                         {"durationMs", std::chrono::duration<double, std::milli>(deliver_time).count()}};
  if (record.timestamp_ms > 0) {
    const auto since_accepted_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch()).count() -
                                   record.timestamp_ms;
    counters_.end_to_end_seconds.observe(static_cast<double>(since_accepted_ms) / 1000.0);
    fields.emplace_back("endToEndMs", static_cast<long long>(since_accepted_ms));
  }
  fields.emplace_back("traceparent", m.traceparent);
  logging::event(spdlog::level::info, "message delivered", fields);
}

DeliveryLoop::Handled DeliveryLoop::deliver_together(RecordSource& source,
                                                     const std::vector<const ConsumedRecord*>& records,
                                                     std::vector<Screened>& group, const std::stop_token& stop) {
  std::vector<const DeliveredMessage*> messages;
  for (auto& s : group) {
    receipts_.publish(s.trail->next(ReceiptStatus::forwarded, "consumed by " + names::consumer_group(destination_.id)));
    s.message.attempt = 1;
    messages.push_back(&s.message);
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<DeliveryOutcome> outcomes = adapter_->deliver_group(messages);
  const auto took = std::chrono::steady_clock::now() - start;
  size_t delivered = 0;
  while (delivered < outcomes.size() && delivered < group.size() && std::holds_alternative<Delivered>(outcomes[delivered]))
    ++delivered;

  if (delivered > 0) {
    const auto each = took / static_cast<long>(outcomes.size());
    std::vector<std::string> ids;
    for (size_t i = 0; i < delivered; ++i) {
      count_delivered(*records[i], group[i].message, each);
      ids.push_back(group[i].message.message_id);
    }
    // Durable in this order before any offset moves on: ledger, receipts, then offsets.
    if (!until_done(stop, "ledger entries of " + std::to_string(delivered) + " messages", [&] {
          auto rec = ledger_->record_all(ids);
          if (!rec) spdlog::error("cannot record {} deliveries: {}", delivered, rec.problem().detail);
          return rec.ok();
        }))
      return Handled::stopped;
    std::vector<Receipt> outcomes_receipts;
    std::vector<std::future<Status>> acks;
    for (size_t i = 0; i < delivered; ++i) {
      outcomes_receipts.push_back(
          group[i].trail->next(ReceiptStatus::delivered, std::get<Delivered>(outcomes[i]).detail));
      auto done = std::make_shared<std::promise<Status>>();
      acks.push_back(done->get_future());
      receipts_.publish(outcomes_receipts.back(), [done](Status st) { done->set_value(std::move(st)); });
    }
    for (size_t i = 0; i < delivered; ++i) {
      if (acks[i].get().ok()) continue;
      if (!until_done(stop, "receipt of " + group[i].message.message_id,
                      [&] { return publish_and_wait(outcomes_receipts[i]); }))
        return Handled::stopped;
    }
    for (size_t i = 0; i < delivered; ++i)
      audit_decision(*group[i].trail, group[i].message.message_id, ReceiptStatus::delivered, "ok", 1,
                     std::get<Delivered>(outcomes[i]).detail);
    // One commit per partition: its last record of the group covers the ones before.
    std::map<std::pair<std::string, int32_t>, const ConsumedRecord*> last;
    for (size_t i = 0; i < delivered; ++i) last[{records[i]->env.topic, records[i]->partition}] = records[i];
    for (const auto& [where, record] : last)
      if (auto c = source.commit(*record); !c)
        spdlog::warn("commit of {} failed ({}); it may be handled again, the adapter dedupes", origin(*record),
                     c.problem().detail);
  }
  // The first one not delivered continues alone with its outcome, then the rest in order,
  // each with the outcome the adapter already has for it (a concurrent adapter has one
  // for every message: those delivered meanwhile are not sent again).
  for (size_t i = delivered; i < group.size(); ++i) {
    std::optional<DeliveryOutcome> first;
    if (i < outcomes.size()) first = std::move(outcomes[i]);
    if (handle(source, *records[i], std::move(group[i]), stop, std::move(first)) == Handled::stopped)
      return Handled::stopped;
  }
  return Handled::committed;
}

DeliveryLoop::Handled DeliveryLoop::finish(RecordSource& source, const ConsumedRecord& record, ReceiptTrail& trail,
                                           ReceiptStatus status, const std::string& detail, bool to_dlq, int attempts,
                                           const char* result, const std::stop_token& stop) {
  const std::string id = trail.id();
  // Outcome durable first (dead letter where needed, then the receipt), then the
  // offset. Nothing is committed past an outcome that is not stored.
  if (to_dlq && !until_done(stop, "dead letter of " + id, [&] { return dead_letter(record, detail, attempts, false); }))
    return Handled::stopped;
  const Receipt outcome = trail.next(status, detail);  // built once: retries repeat the same receipt
  if (!until_done(stop, "receipt of " + id, [&] { return publish_and_wait(outcome); })) return Handled::stopped;
  audit_decision(trail, id, status, result, attempts, detail);
  if (auto c = source.commit(record); !c)
    spdlog::warn("commit of {} failed ({}); it may be handled again, the adapter dedupes", id, c.problem().detail);
  return Handled::committed;
}

void DeliveryLoop::audit_decision(const ReceiptTrail& trail, const std::string& id, ReceiptStatus status,
                                  const char* result, int attempts, const std::string& detail) {
  if (!observe_decisions_) return;
  observe_decisions_({.event = std::string(to_string(status)), .message_id = id, .payload_sha256 = trail.payload_sha256(),
                      .destination = destination_.id, .result = result,
                      .detail = "attempt " + std::to_string(attempts) + ": " + detail,
                      .payload_hashed = trail.payload_hashed()});
}

DeliveryLoop::Handled DeliveryLoop::handle(RecordSource& source, const ConsumedRecord& record, Screened screened,
                                           const std::stop_token& stop, std::optional<DeliveryOutcome> first) {
  using Verdict = Screened::Verdict;
  ReceiptTrail& trail = *screened.trail;
  const std::string id = trail.id();
  switch (screened.verdict) {
    case Verdict::chunk:
      return handle_chunk(source, record, std::move(screened), stop);
    case Verdict::unverified:
      return refuse_unverified(source, record, screened.why, stop);
    case Verdict::undecryptable:
      ++counters_.rejected;
      spdlog::error("message {} for '{}' rejected: {}", printable(id), destination_.id, screened.why);
      return finish(source, record, trail, ReceiptStatus::rejected, screened.why, true, 0, "undecryptable", stop);
    case Verdict::duplicate:
      ++counters_.duplicates;
      spdlog::info("message {} for '{}' was delivered before; not delivering again", printable(id), destination_.id);
      return finish(source, record, trail, ReceiptStatus::delivered, "delivered before (redelivery suppressed)", false,
                    0, "duplicate", stop);
    case Verdict::ready:
      break;
  }
  Message& m = screened.message;
  if (!first)
    receipts_.publish(trail.next(ReceiptStatus::forwarded, "consumed by " + names::consumer_group(destination_.id)));

  const auto first_try = std::chrono::steady_clock::now();
  for (int attempt = 1; !stop.stop_requested(); ++attempt) {
    m.attempt = attempt;
    const auto deliver_start = std::chrono::steady_clock::now();
    DeliveryOutcome outcome = attempt == 1 && first ? std::move(*first) : adapter_->deliver(m);
    const auto deliver_time = std::chrono::steady_clock::now() - deliver_start;
    if (auto* ok = std::get_if<Delivered>(&outcome); ok && hand_over_) {
      // Handed on: the next gateway has it now. Its final status comes by the follower,
      // which needs the entry durable before the offset moves on.
      counters_.deliver_seconds.observe(deliver_time);
      ++counters_.delivered;
      const Receipt handed = trail.next(ReceiptStatus::forwarded, ok->detail);
      auto steps = handed.history;
      steps.emplace_back(handed.status, handed.at);  // the follower's receipts continue from here
      const ForwardedEntry entry{id, std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch()).count(),
                                 std::move(steps), handed.route, handed.traceparent};
      if (!until_done(stop, "forwarded-ledger entry of " + id, [&] {
            auto added = forwarded_->add(entry);
            if (!added) spdlog::error("cannot record hand-over of {}: {}", id, added.problem().detail);
            return added.ok();
          }))
        return Handled::stopped;
      if (!until_done(stop, "receipt of " + id, [&] { return publish_and_wait(handed); })) return Handled::stopped;
      audit_decision(trail, id, ReceiptStatus::forwarded, "handed-over", attempt, ok->detail);
      if (auto c = source.commit(record); !c)
        spdlog::warn("commit of {} failed ({}); it may be handed on again, the peer answers 200", id, c.problem().detail);
      return Handled::committed;
    }
    if (auto* ok = std::get_if<Delivered>(&outcome)) {
      count_delivered(record, m, deliver_time);
      // The ledger entry must be durable before the offset moves on.
      if (!until_done(stop, "ledger entry of " + id, [&] {
            auto rec = ledger_->record(id);
            if (!rec) spdlog::error("cannot record delivery of {}: {}", id, rec.problem().detail);
            return rec.ok();
          }))
        return Handled::stopped;
      return finish(source, record, trail, ReceiptStatus::delivered, ok->detail, false, attempt, "ok", stop);
    }
    counters_.deliver_seconds.observe(deliver_time);
    if (auto* no = std::get_if<Reject>(&outcome)) {
      ++counters_.rejected;
      return finish(source, record, trail, ReceiptStatus::rejected, no->problem.detail, true, attempt, "target-refused", stop);
    }
    const auto& retry = std::get<Retry>(outcome);
    // Age counts from acceptance (the record's CreateTime), not from this process's first try.
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    const bool too_old = record.timestamp_ms > 0 ? now_ms - record.timestamp_ms > destination_.adapter.max_age.count()
                                                 : std::chrono::steady_clock::now() - first_try > destination_.adapter.max_age;
    if (attempt >= destination_.adapter.max_attempts || too_old) {
      ++counters_.dead_lettered;
      spdlog::error("message {} for '{}' dead-lettered after {} attempts: {}", id, destination_.id, attempt, retry.reason);
      return finish(source, record, trail, ReceiptStatus::dead_lettered, retry.reason, true, attempt, "retries-exhausted",
                    stop);
    }
    ++counters_.retried;
    // Informational: the offset does not wait for it (the final outcome's receipt is awaited).
    if (!publish_and_wait(trail.next(ReceiptStatus::failed, "attempt " + std::to_string(attempt) + ": " + retry.reason)))
      spdlog::warn("receipt 'failed' of {} not stored; the final receipt will carry the history", id);
    const auto wait = retry.after.count() > 0 ? retry.after : backoff(attempt);
    spdlog::warn("message {} for '{}': attempt {} failed ({}), retrying in {} ms", id, destination_.id, attempt,
                 retry.reason, wait.count());
    if (!sleep_unless_stopped(stop, wait)) break;
  }
  return Handled::stopped;  // not committed: the next owner of the partition delivers it
}

namespace {

// What the deliverer needs to deliver a chunked message once complete: the verified
// headers of its chunk records (kept with the sequence, so a restart has them too).
std::string sequence_metadata(const ConsumedRecord& record) {
  const Message m = from_record(record.env);
  return nlohmann::json{{"type", m.message_type},        {"standard", m.standard},
                        {"sender", m.sender},            {"recipient", m.recipient},
                        {"acceptedAt", m.accepted_at},   {"route", m.route},
                        {"traceparent", m.traceparent},  {"routingVersion", record.env.get(header::routing_version)}}
      .dump();
}

Message message_from_metadata(const std::string& json) {
  Message m;
  const auto j = nlohmann::json::parse(json, nullptr, false);
  if (!j.is_object()) return m;
  auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string{}; };
  m.message_type = str("type");
  m.standard = str("standard");
  m.sender = str("sender");
  m.recipient = str("recipient");
  m.accepted_at = str("acceptedAt");
  m.route = str("route");
  m.traceparent = str("traceparent");
  return m;
}

std::string hex_of(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

Status read_whole_file(const std::filesystem::path& file, uint64_t size, std::string& into) {
  std::ifstream in(file, std::ios::binary);
  into.resize(static_cast<size_t>(size));
  if (!in.read(into.data(), static_cast<std::streamsize>(size)))
    return Problem::make(ProblemKind::io_error, "cannot read " + file.string());
  return ok_status();
}

}  // namespace

DeliveryLoop::Handled DeliveryLoop::handle_chunk(RecordSource& source, const ConsumedRecord& record, Screened screened,
                                                 const std::stop_token& stop) {
  ReceiptTrail& trail = *screened.trail;
  crypto::OpenedChunk& chunk = *screened.chunk;
  const std::string seq = chunk.claims.seq;
  ++counters_.chunks;
  if (!assembler_) {
    crypto::cleanse(chunk.plaintext);
    ++counters_.rejected;
    return finish(source, record, trail, ReceiptStatus::rejected, "this deliverer takes no chunked messages", true, 0,
                  "chunks-unsupported", stop);
  }
  // A chunk between the first and the last is written now and made durable with the
  // others of the batch (settle_chunks); anything else settles them first, so no
  // offset is committed past one that is not durable.
  const bool deferred = chunk.claims.index > 0 && !chunk.claims.last && chunk.claims.abort.empty();
  if (!deferred && settle_chunks(source, stop) == Handled::stopped) return Handled::stopped;
  const auto durability = deferred ? ChunkAssembler::Durability::at_flush : ChunkAssembler::Durability::now;
  Result<std::optional<ChunkAssembler::Complete>> added = Problem::make(ProblemKind::internal, "not added");
  if (!until_done(stop, "chunk " + std::to_string(chunk.claims.index) + " of " + seq, [&] {
        added = assembler_->add(chunk, sequence_metadata(record), durability);
        // A full disk is worth retrying; a refused sequence is an answer.
        return added.ok() || added.problem().kind != ProblemKind::io_error;
      }))
    return Handled::stopped;
  if (deferred && added && !*added) {  // written, durable at the next settle
    unsettled_chunks_.push_back({&record, std::move(chunk)});
    return Handled::committed;
  }
  crypto::cleanse(chunk.plaintext);
  if (deferred && settle_chunks(source, stop) == Handled::stopped) return Handled::stopped;
  if (!added) {
    const std::string& why = added.problem().detail;
    if (refused_sequences_.count(seq)) {
      // The rest of a sequence already refused and dead-lettered: nothing new to say.
      spdlog::debug("deliverer '{}': chunk {} of refused sequence {} dropped", destination_.id, chunk.claims.index,
                    printable(seq));
      if (auto c = source.commit(record); !c) spdlog::warn("commit of {} failed ({})", origin(record), c.problem().detail);
      return Handled::committed;
    }
    if (why.rfind("aborted: ", 0) == 0) {
      // The gateway gave up on it and told the sender; nothing to say to anyone.
      spdlog::info("deliverer '{}': sequence {} {}", destination_.id, printable(seq), why);
      if (auto c = source.commit(record); !c) spdlog::warn("commit of {} failed ({})", origin(record), c.problem().detail);
      return Handled::committed;
    }
    ++counters_.chunk_sequences_refused;
    if (refused_order_.size() >= 1024) {
      refused_sequences_.erase(refused_order_.front());
      refused_order_.pop_front();
    }
    if (refused_sequences_.insert(seq).second) refused_order_.push_back(seq);
    ++counters_.rejected;
    spdlog::error("deliverer '{}': chunked message {} refused: {}", destination_.id, printable(seq), why);
    return finish(source, record, trail, ReceiptStatus::rejected, "chunk sequence refused: " + why, true, 0,
                  "chunk-sequence-refused", stop);
  }
  if (!*added && chunk.claims.last) {
    // The last chunk read again: complete before a restart but not delivered yet.
    for (auto& held : assembler_->completed())
      if (held.seq == seq) *added = std::move(held);
  }
  if (!*added) {  // held durably: the offset may move on
    if (auto c = source.commit(record); !c)
      spdlog::warn("commit of {} failed ({}); the chunk will be read again and skipped", origin(record),
                   c.problem().detail);
    return Handled::committed;
  }
  // The last chunk: size and SHA-256 of the whole file matched the signed claims.
  const ChunkAssembler::Complete done = std::move(**added);
  Screened whole;
  whole.trail = std::make_unique<ReceiptTrail>(record, destination_.id, done.message_id);
  whole.trail->size = done.size;
  whole.trail->chunks = done.chunks;
  if (observe_decisions_) {
    // The audit line names the whole plaintext's SHA-256 (hex), as for single records.
    auto digest = crypto::base64url_decode(done.sha256);
    if (digest)
      whole.trail->set_payload_hash(hex_of(*digest), "plaintext");
    else
      whole.trail->set_payload_hash(trail.payload_sha256(), trail.payload_hashed());
  }
  // The last chunk's signed headers: the head as the whole document showed it.
  whole.message = message_from_metadata(sequence_metadata(record));
  whole.message.message_id = done.message_id;
  whole.message.destination = destination_.id;
  whole.message.body_file = done.file;
  whole.message.body_size = done.size;
  Handled handled;
  if (ledger_->contains(done.message_id)) {
    whole.verdict = Screened::Verdict::duplicate;
    handled = handle(source, record, std::move(whole), stop);
  } else if (!adapter_->streams_files() && done.size > OutboundAdapter::kMaxInMemoryDeliveryBytes) {
    ++counters_.rejected;
    handled = finish(source, record, *whole.trail, ReceiptStatus::rejected,
                     "a " + std::string(adapter_->type()) + " adapter takes messages up to " +
                         std::to_string(OutboundAdapter::kMaxInMemoryDeliveryBytes) + " bytes; this one has " +
                         std::to_string(done.size),
                     true, 0, "too-large-for-adapter", stop);
  } else {
    if (!adapter_->streams_files()) {
      if (!until_done(stop, "reading " + done.file.string(),
                      [&] { return read_whole_file(done.file, done.size, whole.message.body).ok(); }))
        return Handled::stopped;
      whole.message.body_file.clear();
    }
    whole.verdict = Screened::Verdict::ready;
    handled = handle(source, record, std::move(whole), stop);
  }
  if (handled == Handled::committed)
    if (auto released = assembler_->release(seq); !released)
      spdlog::warn("deliverer '{}': cannot remove the files of {}: {}", destination_.id, printable(seq),
                   released.problem().detail);
  return handled;
}

bool DeliveryLoop::chunked_sequences_may_expire(RecordSource& source) {
  // The rest of a held sequence may still be on the topic: behind a restart or rebalance
  // (the group took its time to hand the partitions over: the caller checks that this
  // member holds them), or behind records this loop has not read yet (a backlog, a
  // retried delivery). "Nothing for chunk_timeout" counts only at the partitions' end.
  auto at_end = source.caught_up();
  return at_end && *at_end;
}

void DeliveryLoop::expire_chunk_sequences() {
  for (const auto& gone : assembler_->expire(std::chrono::system_clock::now())) {
    ++counters_.chunk_sequences_expired;
    const Message m = message_from_metadata(gone.metadata_json);
    const std::string detail = "incomplete: " + std::to_string(gone.chunks) + " chunks (" + std::to_string(gone.bytes) +
                               " bytes) arrived, then nothing for " +
                               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                  destination_.adapter.chunk_timeout).count()) +
                               " s; discarded, nothing was delivered";
    spdlog::warn("deliverer '{}': chunked message {} {}", destination_.id, printable(gone.seq), detail);
    Receipt r;
    r.message_id = gone.seq;
    r.destination = destination_.id;
    r.status = ReceiptStatus::failed;
    r.at = rfc3339_now();
    r.detail = detail;
    r.route = m.route;
    r.traceparent = m.traceparent;
    r.size = gone.bytes;
    r.chunks = gone.chunks;
    receipts_.publish(r);
    if (observe_decisions_)
      observe_decisions_({.event = "failed", .message_id = gone.seq, .destination = destination_.id,
                          .result = "incomplete-discarded", .detail = detail, .payload_hashed = "none"});
  }
}

}  // namespace xoev
