// The routing table: an immutable snapshot of the configured routes, swapped as a
// whole on reload. Choosing a route is pure: header in, decision (or Problem) out.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/core/result.h"
#include "gateway/core/routing_header.h"

namespace xoev {

// Why one route did or did not match: the answer to `route --explain`.
struct RouteCandidate {
  const RouteSection* route = nullptr;
  bool matched = false;
  int specificity = 0;
  std::string mismatch;  // first field that did not match, e.g. "reader 'xyz:0002' !~ 'psw:*'"
};

struct RouteDecision {
  const RouteSection* route = nullptr;
  const DestinationSection* destination = nullptr;
};

class Router {
 public:
  // The config must outlive the router (both live in one snapshot).
  explicit Router(const Config& config) : config_(&config) {}

  // Highest priority wins, then the most specific patterns (most literal characters).
  // Equal best matches to different destinations → ambiguous_route; none → no_route.
  Result<RouteDecision> route(const RoutingHeader& header) const;
  std::vector<RouteCandidate> explain(const RoutingHeader& header) const;

  // The region key (ARS/AGS digits) a reader id carries: "psw:06414000" → "06414000",
  // "leitweg:04011000-1234-12" → "04011000".
  static std::string region_of(const std::string& reader);

 private:
  const Config* config_;
};

}  // namespace xoev
