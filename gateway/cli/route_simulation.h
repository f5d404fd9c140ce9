// `route --simulate DIR --config NEW [--baseline OLD]`: a folder of messages run through
// two routing tables, to see what a change does before it goes live. Only the
// inspector and the router are built (schemas, standards, routes, directory files) —
// no keys, no Kafka — so a clerk can run it on a copy of the configuration.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/core/result.h"
#include "gateway/ingest/message_inspector.h"
#include "gateway/route/router.h"

namespace xoev::cli {

// The front half of a gateway snapshot: enough to decide a route, nothing secret (no
// keys are read), so `route --explain` and `--simulate` run on any copy of a config.
class RoutingPreview {
 public:
  static Result<std::unique_ptr<RoutingPreview>> load(const std::filesystem::path& config_file);
  const Config& config() const { return config_; }
  const MessageInspector& inspector() const { return *inspector_; }
  const Router& router() const { return *router_; }

 private:
  RoutingPreview() = default;
  Config config_;
  std::unique_ptr<MessageInspector> inspector_;
  std::unique_ptr<Router> router_;
};

// Where one message would go under one table: a destination and the rule, or refused.
struct SimulatedRoute {
  bool accepted = false;
  std::string destination;  // when accepted
  std::string route;        // when accepted
  std::string refusal;      // problem type slug and detail, when refused
  bool operator==(const SimulatedRoute& other) const {
    return accepted == other.accepted && destination == other.destination && (accepted || refusal == other.refusal);
  }
};

struct SimulatedMessage {
  std::filesystem::path file;
  SimulatedRoute baseline;  // empty without a baseline
  SimulatedRoute proposed;
};

struct Simulation {
  std::vector<SimulatedMessage> messages;
  size_t changed = 0;          // another destination, or accepted ↔ refused
  size_t newly_refused = 0;
  size_t newly_accepted = 0;
};

// Runs every *.xml under `messages` (recursively, sorted by path) through the proposed
// config, and through the baseline when given. A config that does not load fails.
Result<Simulation> simulate(const std::filesystem::path& messages, const std::filesystem::path& proposed,
                            const std::filesystem::path* baseline);

}  // namespace xoev::cli
