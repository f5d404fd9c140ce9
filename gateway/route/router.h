// The routing table: an immutable snapshot of the configured routes and the directory
// files, swapped as a whole on reload. Choosing a route is pure: header in, decision
// (or Problem) out. Precedence is the order of RouteRank (gateway/route/route_rank.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/core/result.h"
#include "gateway/core/routing_header.h"
#include "gateway/route/route_rank.h"
#include "gateway/route/routing_directory.h"

namespace xoev {

// One rule considered for a message, and why it did or did not match: `route --explain`.
struct RouteCandidate {
  std::string name;         // the route's name, or "directory FILE:LINE"
  Location where;           // where it is written
  std::string destination;
  bool matched = false;
  RouteRank rank;
  std::string mismatch;     // first field that did not match, e.g. "reader 'xyz:0002' does not match 'psw:*'"
};

struct RouteDecision {
  std::string route;        // the chosen rule's name (recorded in receipts)
  const DestinationSection* destination = nullptr;
};

class Router {
 public:
  // Loads the directory files too. The config must outlive the router (both live in
  // one snapshot). Fails with the first directory problem (and how many more).
  static Result<std::unique_ptr<Router>> build(const Config& config);
  // Routes only (no directory files): for tests and tools that build configs in code.
  explicit Router(const Config& config);
  Router(const Config& config, std::shared_ptr<const RoutingDirectory> directory);

  // The best-ranked matching rule; equal best ranks to different destinations →
  // ambiguous_route; none → no_route.
  Result<RouteDecision> route(const RoutingHeader& header) const;
  // Every route, and the directory entries of the message's reader.
  std::vector<RouteCandidate> explain(const RoutingHeader& header) const;

  // The region key (ARS/AGS) of a reader under this config's region_prefixes.
  std::string region_of(const std::string& reader) const;
  const RoutingDirectory& directory() const { return *directory_; }
  // The rank of config.routes[index] (GET /admin/routes lists routes by it).
  const RouteRank& route_rank(size_t index) const { return route_ranks_.at(index); }

  // Routes and directory entries that rank equally for some message yet lead to
  // different destinations, found without a message: a config error.
  std::vector<Problem> ambiguities() const;

 private:
  Problem ambiguity(const RoutingHeader& header) const;

  const Config* config_;
  std::vector<RouteRank> route_ranks_;  // of config_->routes, in order
  std::shared_ptr<const RoutingDirectory> directory_;
};

}  // namespace xoev
