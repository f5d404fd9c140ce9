// The families of the accept pipeline and of delivery loops, shared by `serve` (its
// pipeline and in-process deliverers) and `deliver` (one loop), so both expose the
// same names.
#pragma once

#include <memory>
#include <vector>

#include "gateway/delivery/delivery_loop.h"
#include "gateway/ingest/ingest_pipeline.h"
#include "gateway/metrics/exposition.h"

namespace xoev {

inline constexpr const char* kStageDurationFamily = "xoevgate_stage_duration_seconds";

// xoevgate_messages_{accepted,duplicate,refused}_total (refused by reason),
// broker failures, backlog refusals, stage histograms parse/validate/seal/produce.
void write_pipeline_metrics(metrics::Exposition& out, const IngestPipeline::Counters& c);
// xoevgate_deliveries_total{destination,outcome}, stage histograms deliver/end_to_end
// per destination, xoevgate_consumer_lag{destination,topic,partition}.
void write_delivery_metrics(metrics::Exposition& out, const std::vector<std::unique_ptr<DeliveryLoop>>& loops);

}  // namespace xoev
