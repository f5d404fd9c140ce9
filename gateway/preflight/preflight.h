// Everything `serve` and `deliver` would refuse at start, checked without starting
// anything: keys (private where they must be, public halves that match, signing keys
// that can sign, file modes), each adapter's own checks (secrets, directories,
// certificates), schemas and XPaths. `check-config` runs it for every role; `serve`
// and `deliver` run it for theirs, so the three can never disagree.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gateway/config/config.h"

namespace xoev {

// Which parts of a config this host runs, and so which private keys it must hold.
struct PreflightScope {
  bool gateway = true;                     // serve: signing key, encryption keys, schemas
  bool all_deliverers = false;             // check-config: every destination's adapter
  std::vector<std::string> deliverers;     // these destinations' adapters run here
  bool snapshot = true;                    // also compile schemas and XPaths (serve does that itself)
  bool environment = true;                 // also the host as it is now (inbox writable): check-config only

  static PreflightScope everything() { return {true, true, {}, true, true}; }
  static PreflightScope serve(const Config& config);            // the gateway + its in_process adapters
  static PreflightScope deliver(const std::string& destination);
  bool delivers(const std::string& destination) const;
};

// Every problem found, each with the config's FILE:LINE where one is known.
std::vector<Problem> preflight(const Config& config, const PreflightScope& scope);
// For serve and deliver at start and on reload: the first problem, saying how many
// more there are and that check-config lists them all.
Status preflight_status(const Config& config, const PreflightScope& scope);

}  // namespace xoev
