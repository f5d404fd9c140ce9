#include "gateway/runtime/runtime_metrics.h"

namespace xoev {
namespace {

using metrics::MetricType;

metrics::Family& stage_family(metrics::Exposition& out) {
  return out.family(kStageDurationFamily,
                    "Seconds per message and stage: parse, validate, seal, produce (until the broker acknowledged), "
                    "deliver (one adapter call) and end_to_end (accepted to delivered).",
                    MetricType::histogram);
}

double d(uint64_t v) { return static_cast<double>(v); }

}  // namespace

void write_pipeline_metrics(metrics::Exposition& out, const IngestPipeline::Counters& c) {
  out.family("xoevgate_messages_accepted_total", "Messages accepted (acknowledged by Kafka, answered 202).",
             MetricType::counter)
      .sample({}, d(c.accepted));
  out.family("xoevgate_messages_duplicate_total", "Resent message ids answered from the first submission.",
             MetricType::counter)
      .sample({}, d(c.duplicates));
  auto& refused = out.family("xoevgate_messages_refused_total",
                             "Messages refused before sending, by reason (the problem type's last segment).",
                             MetricType::counter);
  for (const auto& [reason, n] : c.refused_by_reason.values()) refused.sample({{"reason", reason}}, d(n));
  out.family("xoevgate_broker_failures_total", "Messages Kafka did not acknowledge (answered 503).",
             MetricType::counter)
      .sample({}, d(c.broker_failures));
  out.family("xoevgate_backlog_refusals_total", "Messages answered 503 backlog-full.", MetricType::counter)
      .sample({}, d(c.backlog_refusals));
  auto& stages = stage_family(out);
  stages.histogram({{"stage", "parse"}}, c.parse_seconds.snapshot());
  stages.histogram({{"stage", "validate"}}, c.validate_seconds.snapshot());
  stages.histogram({{"stage", "seal"}}, c.seal_seconds.snapshot());
  stages.histogram({{"stage", "produce"}}, c.produce_seconds.snapshot());
}

void write_delivery_metrics(metrics::Exposition& out, const std::vector<std::unique_ptr<DeliveryLoop>>& loops) {
  auto& deliveries = out.family("xoevgate_deliveries_total", "Delivery attempts' outcomes per destination.",
                                MetricType::counter);
  auto& stages = stage_family(out);
  auto& lag = out.family("xoevgate_consumer_lag",
                         "Records not yet handled per destination partition: high watermark minus the deliverer "
                         "group's committed offset, as this deliverer's consumer sees them.",
                         MetricType::gauge);
  for (const auto& loop : loops) {
    const auto& k = loop->counters();
    const std::string& dest = loop->destination_id();
    deliveries.sample({{"destination", dest}, {"outcome", "delivered"}}, d(k.delivered));
    deliveries.sample({{"destination", dest}, {"outcome", "retried"}}, d(k.retried));
    deliveries.sample({{"destination", dest}, {"outcome", "rejected"}}, d(k.rejected));
    deliveries.sample({{"destination", dest}, {"outcome", "dead_lettered"}}, d(k.dead_lettered));
    deliveries.sample({{"destination", dest}, {"outcome", "duplicate"}}, d(k.duplicates));
    // Records whose signature or signed destination did not hold: dead-lettered by origin.
    deliveries.sample({{"destination", dest}, {"outcome", "unverified"}}, d(k.unverified));
    deliveries.sample({{"destination", dest}, {"outcome", "dead_letter_held"}}, d(k.dead_letter_waits));
    stages.histogram({{"stage", "deliver"}, {"destination", dest}}, k.deliver_seconds.snapshot());
    stages.histogram({{"stage", "end_to_end"}, {"destination", dest}}, k.end_to_end_seconds.snapshot());
    for (const auto& p : loop->lag())
      lag.sample({{"destination", dest}, {"topic", p.topic}, {"partition", std::to_string(p.partition)}},
                 static_cast<double>(p.lag()));
  }
}

}  // namespace xoev
