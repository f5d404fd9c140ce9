// GET /admin/routes: the live routing table as JSON — its version and load time, the
// routes in precedence order, the destinations (id, topic, adapter type: never key
// material or key paths) and a summary of the directory files (a million entries are
// not listed inline; `reader` lists the entries of one reader).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "gateway/ingest/gateway_snapshot.h"

namespace xoev {

nlohmann::json routing_table_json(const GatewaySnapshot& table, const std::optional<std::string>& reader = std::nullopt);

}  // namespace xoev
