// One operator request about a destination's dead letters — list them (optionally only
// the pending ones, or one id) or replay them (optionally as a dry run) — answered the
// same way by `xoevgate dlq` against a cluster and by serve's admin endpoint
// (/admin/dlq/{destination}), which reaches the embedded cluster too.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "gateway/dlq/dead_letters.h"

namespace xoev {

struct DeadLetterQuery {
  std::string destination;
  bool replay = false;
  bool dry_run = false;                 // replay: say what would be replayed, produce nothing
  bool pending_only = false;            // list: only what is still undelivered
  std::optional<std::string> message_id;  // only this message
};

// Progress for long runs ("read 1200 dead letters", "replayed 40"); may be empty.
using DeadLetterProgress = std::function<void(const std::string&)>;

// {"destination", "letters": [...], and for replay "replayed" (or "wouldReplay"), "dryRun"}.
Result<nlohmann::json> answer_dead_letter_query(const KafkaConnection& connection, const Config& config,
                                                const crypto::KeyRing& receipt_signers, const DeadLetterQuery& query,
                                                const DeadLetterProgress& progress = {});

}  // namespace xoev
