#include "gateway/delivery/delivery_loop.h"

#include <spdlog/spdlog.h>

#include <future>
#include <thread>

#include "gateway/config/outbound_registry.h"
#include "gateway/core/clock.h"
#include "gateway/core/log_format.h"
#include "gateway/crypto/envelope_seal.h"
#include "gateway/crypto/key_file.h"
#include "gateway/kafka/consumer_service.h"
#include "gateway/kafka/message_record.h"
#include "gateway/kafka/topic_names.h"

namespace xoev {

Result<std::unique_ptr<DeliveryLoop>> DeliveryLoop::create(const Config& config, const DestinationSection& destination,
                                                           RecordSink& sink) {
  Parts parts;
  parts.destination = destination;
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
  return std::make_unique<DeliveryLoop>(std::move(parts), sink);
}

DeliveryLoop::DeliveryLoop(Parts parts, RecordSink& sink)
    : destination_(std::move(parts.destination)),
      trusted_(std::move(parts.trusted)),
      decryption_(std::move(parts.decryption)),
      adapter_(std::move(parts.adapter)),
      ledger_(std::move(parts.ledger)),
      sink_(sink),
      receipts_(sink) {}

void DeliveryLoop::run(RecordSource& source, const std::stop_token& stop) {
  spdlog::info("deliverer for '{}' consuming {} as group {} ({} adapter)", destination_.id, destination_.topic,
               names::consumer_group(destination_.id), adapter_->type());
  auto last_error_log = std::chrono::steady_clock::time_point{};
  auto last_lag = std::chrono::steady_clock::time_point{};
  while (!stop.stop_requested()) {
    if (std::chrono::steady_clock::now() - last_lag > std::chrono::seconds(1)) {
      auto lag = source.lag();
      std::lock_guard lock(lag_mu_);
      lag_ = std::move(lag);
      last_lag = std::chrono::steady_clock::now();
    }
    auto polled = source.poll(std::chrono::milliseconds(200));
    if (!polled) {
      // Transient (broker away, topic not there yet): keep polling, log at most every 10 s.
      if (std::chrono::steady_clock::now() - last_error_log > std::chrono::seconds(10)) {
        spdlog::warn("deliverer '{}': {}", destination_.id, polled.problem().detail);
        last_error_log = std::chrono::steady_clock::now();
      }
      continue;
    }
    if (!polled->has_value()) continue;
    if (handle(source, **polled, stop) == Handled::stopped) break;
  }
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

bool DeliveryLoop::dead_letter(const ConsumedRecord& record, const std::string& reason, int attempts) {
  Envelope env = record.env;  // still encrypted and signed: replay puts it back unchanged
  env.topic = names::dlq_topic(destination_.id);
  env.set(header::dlq_reason, reason);
  env.set(header::dlq_attempts, std::to_string(attempts));
  auto done = std::make_shared<std::promise<Status>>();
  auto result = done->get_future();
  sink_.produce(std::move(env), [done](Result<BrokerAck> d) { done->set_value(d ? ok_status() : Status(d.problem())); });
  const Status s = result.get();
  if (!s) spdlog::error("dead letter for {} not stored: {}", record.env.key, s.problem().detail);
  return s.ok();
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

DeliveryLoop::Handled DeliveryLoop::handle(RecordSource& source, const ConsumedRecord& record,
                                           const std::stop_token& stop) {
  const std::string id = record.env.get(header::message_id).empty() ? record.env.key : record.env.get(header::message_id);
  // Every receipt carries the steps before it, starting with the acceptance time
  // from the signed header, so the newest receipt alone is the whole status.
  std::vector<std::pair<ReceiptStatus, std::string>> so_far;
  if (const auto accepted = record.env.get(header::accepted_at); !accepted.empty())
    so_far.emplace_back(ReceiptStatus::accepted, accepted);
  auto receipt = [&](ReceiptStatus s, std::string detail) {
    Receipt r;
    r.message_id = id;
    r.destination = destination_.id;
    r.status = s;
    r.at = rfc3339_now();
    r.detail = std::move(detail);
    r.history = so_far;
    r.route = record.env.get(header::route);
    r.traceparent = record.env.get(header::traceparent);
    so_far.emplace_back(s, r.at);
    return r;
  };
  // Outcome durable first (dead letter where needed, then the receipt), then the
  // offset. Nothing is committed past an outcome that is not stored.
  auto finish = [&](ReceiptStatus s, const std::string& detail, bool to_dlq, int attempts) {
    if (to_dlq && !until_done(stop, "dead letter of " + id, [&] { return dead_letter(record, detail, attempts); }))
      return Handled::stopped;
    const Receipt outcome = receipt(s, detail);  // built once: retries repeat the same receipt
    if (!until_done(stop, "receipt of " + id, [&] { return publish_and_wait(outcome); })) return Handled::stopped;
    if (auto c = source.commit(record); !c)
      spdlog::warn("commit of {} failed ({}); it may be handled again, the adapter dedupes", id, c.problem().detail);
    return Handled::committed;
  };

  // Delivered before (a crash came between delivery and commit): never again.
  if (ledger_->contains(id)) {
    ++counters_.duplicates;
    spdlog::info("message {} for '{}' was delivered before; not delivering again", id, destination_.id);
    return finish(ReceiptStatus::delivered, "delivered before (redelivery suppressed)", false, 0);
  }
  auto opened = crypto::open(record.env, trusted_, decryption_);
  if (!opened) {
    ++counters_.rejected;
    spdlog::error("message {} for '{}' rejected: {}", id, destination_.id, opened.problem().detail);
    return finish(ReceiptStatus::rejected, opened.problem().detail, true, 0);
  }
  Message m = from_record(record.env);  // verified headers: open() checked the signature
  m.message_id = id;
  m.destination = destination_.id;
  m.body = std::move(opened).value();
  receipts_.publish(receipt(ReceiptStatus::forwarded, "consumed by " + names::consumer_group(destination_.id)));

  const auto first_try = std::chrono::steady_clock::now();
  for (int attempt = 1; !stop.stop_requested(); ++attempt) {
    m.attempt = attempt;
    const auto deliver_start = std::chrono::steady_clock::now();
    DeliveryOutcome outcome = adapter_->deliver(m);
    const auto deliver_time = std::chrono::steady_clock::now() - deliver_start;
    counters_.deliver_seconds.observe(deliver_time);
    if (auto* ok = std::get_if<Delivered>(&outcome)) {
      ++counters_.delivered;
      logging::Fields fields{{"messageId", id},
                             {"destination", destination_.id},
                             {"attempt", static_cast<long long>(attempt)},
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
      // The ledger entry must be durable before the offset moves on.
      if (!until_done(stop, "ledger entry of " + id, [&] {
            auto rec = ledger_->record(id);
            if (!rec) spdlog::error("cannot record delivery of {}: {}", id, rec.problem().detail);
            return rec.ok();
          }))
        return Handled::stopped;
      return finish(ReceiptStatus::delivered, ok->detail, false, attempt);
    }
    if (auto* no = std::get_if<Reject>(&outcome)) {
      ++counters_.rejected;
      return finish(ReceiptStatus::rejected, no->problem.detail, true, attempt);
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
      return finish(ReceiptStatus::dead_lettered, retry.reason, true, attempt);
    }
    ++counters_.retried;
    // Informational: the offset does not wait for it (the final outcome's receipt is awaited).
    if (!publish_and_wait(receipt(ReceiptStatus::failed, "attempt " + std::to_string(attempt) + ": " + retry.reason)))
      spdlog::warn("receipt 'failed' of {} not stored; the final receipt will carry the history", id);
    const auto wait = retry.after.count() > 0 ? retry.after : backoff(attempt);
    spdlog::warn("message {} for '{}': attempt {} failed ({}), retrying in {} ms", id, destination_.id, attempt,
                 retry.reason, wait.count());
    if (!sleep_unless_stopped(stop, wait)) break;
  }
  return Handled::stopped;  // not committed: the next owner of the partition delivers it
}

}  // namespace xoev
