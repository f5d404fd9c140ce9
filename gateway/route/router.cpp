#include "gateway/route/router.h"

#include <optional>
#include <string_view>

#include "gateway/core/glob.h"
#include "gateway/route/region.h"

namespace xoev {
namespace {

RouteRank rank_of(const RouteSection& r) {
  const auto& m = r.match;
  return RouteRank{rank_pattern(m.reader),       region_level(m.region),   rank_pattern(m.service),
                   rank_pattern(m.message_type), rank_pattern(m.standard), rank_pattern(m.author),
                   r.priority};
}

RouteRank rank_of(const DirectoryEntry& e) {
  RouteRank rank;
  rank.reader = rank_pattern(e.reader);
  rank.service = rank_pattern(e.service.empty() ? std::string_view("*") : std::string_view(e.service));
  return rank;
}

std::string directory_name(const RoutingDirectory& dir, const DirectoryEntry& e) {
  return std::string("directory ").append(dir.file_name(e.file)).append(":").append(std::to_string(e.line));
}

}  // namespace

Router::Router(const Config& config) : Router(config, std::make_shared<RoutingDirectory>()) {}

Router::Router(const Config& config, std::shared_ptr<const RoutingDirectory> directory)
    : config_(&config), directory_(std::move(directory)) {
  for (const auto& r : config.routes) route_ranks_.push_back(rank_of(r));
}

Result<std::unique_ptr<Router>> Router::build(const Config& config) {
  std::vector<Problem> problems;
  auto directory = RoutingDirectory::load(config, problems);
  auto router = std::make_unique<Router>(config, std::move(directory));
  for (auto& p : router->ambiguities()) problems.push_back(std::move(p));
  if (problems.empty()) return router;
  Problem first = problems.front();
  if (problems.size() > 1)
    first.detail += " (and " + std::to_string(problems.size() - 1) + " more; run `xoevgate check-config " +
                    config.file.string() + "`)";
  return first;
}

std::string Router::region_of(const std::string& reader) const {
  return xoev::region_of(reader, config_->routing.region_prefixes);
}

std::vector<RouteCandidate> Router::explain(const RoutingHeader& h) const {
  std::vector<RouteCandidate> out;
  const std::string region = region_of(h.reader);
  for (const auto& r : config_->routes) {
    RouteCandidate c;
    c.name = r.name;
    c.where = r.where;
    c.destination = r.destination;
    c.rank = rank_of(r);
    const auto& m = r.match;
    auto check = [&](const char* field, const std::string& pattern, const std::string& value) {
      if (c.mismatch.empty() && !glob_match(pattern, value))
        c.mismatch = std::string(field) + " '" + value + "' does not match '" + pattern + "'";
    };
    check("reader", m.reader, h.reader);
    if (c.mismatch.empty() && !region_matches(m.region, region))
      c.mismatch = region.empty() ? "reader '" + h.reader + "' carries no region (region rule '" + m.region + "')"
                                  : "region '" + region + "' is not in '" + m.region + "'";
    check("service", m.service, h.service);
    // The validated code only: a free-text name never routes.
    if (c.mismatch.empty() && !glob_match(m.message_type, h.message_type.code) &&
        !glob_match(m.message_type, h.message_type.name))
      c.mismatch = "message type '" + h.message_type.display() + "' does not match '" + m.message_type + "'";
    check("standard", m.standard, h.standard);
    check("author", m.author, h.author);
    c.matched = c.mismatch.empty();
    out.push_back(std::move(c));
  }
  for (const auto& e : directory_->entries_for(h.reader)) {
    RouteCandidate c;
    c.name = directory_name(*directory_, e);
    c.where = Location{directory_->file_name(e.file), static_cast<int>(e.line), 0};
    c.destination = config_->destinations.at(e.destination).id;
    c.rank = rank_of(e);
    if (!e.service.empty() && e.service != h.service)
      c.mismatch = "service '" + h.service + "' is not '" + e.service + "'";
    c.matched = c.mismatch.empty();
    out.push_back(std::move(c));
  }
  return out;
}

// The hot path: the same decision as explain(), without building any text until a
// refusal needs it.
Result<RouteDecision> Router::route(const RoutingHeader& h) const {
  const std::string region = region_of(h.reader);
  struct Best {
    RouteRank rank;
    std::string_view destination;
    const RouteSection* route;     // the rule: a route,
    const DirectoryEntry* entry;   // or a directory line
  };
  std::optional<Best> best;
  bool tie = false;
  auto consider = [&](const RouteRank& rank, std::string_view destination, const RouteSection* route,
                      const DirectoryEntry* entry) {
    if (!best || rank > best->rank) {
      best = Best{rank, destination, route, entry};
      tie = false;
    } else if (rank == best->rank && destination != best->destination) {
      tie = true;
    }
  };
  for (size_t i = 0; i < config_->routes.size(); ++i) {
    const auto& r = config_->routes[i];
    const auto& m = r.match;
    if (glob_match(m.reader, h.reader) && region_matches(m.region, region) && glob_match(m.service, h.service) &&
        (glob_match(m.message_type, h.message_type.code) || glob_match(m.message_type, h.message_type.name)) &&
        glob_match(m.standard, h.standard) && glob_match(m.author, h.author))
      consider(route_ranks_[i], r.destination, &r, nullptr);
  }
  for (const auto& e : directory_->entries_for(h.reader))
    if (e.service.empty() || e.service == h.service) consider(rank_of(e), config_->destinations[e.destination].id, nullptr, &e);

  if (!best)
    return Problem::make(ProblemKind::no_route, "no route for reader '" + h.reader + "', message type '" +
                                                    h.message_type.display() + "', standard '" + h.standard + "'");
  if (tie) return ambiguity(h);
  return RouteDecision{best->route ? best->route->name : directory_name(*directory_, *best->entry),
                       config_->destination(best->destination)};
}

Problem Router::ambiguity(const RoutingHeader& h) const {
  const auto candidates = explain(h);
  const RouteCandidate* best = nullptr;
  const RouteCandidate* tie = nullptr;
  for (const auto& c : candidates) {
    if (!c.matched) continue;
    if (!best || c.rank > best->rank) {
      best = &c;
      tie = nullptr;
    } else if (c.rank == best->rank && c.destination != best->destination) {
      tie = &c;
    }
  }
  return Problem::make(ProblemKind::ambiguous_route,
                       "'" + best->name + "' (" + best->where.file + ":" + std::to_string(best->where.line) + ") and '" +
                           tie->name + "' (" + tie->where.file + ":" + std::to_string(tie->where.line) +
                           ") match equally well (" + describe(best->rank) +
                           ") and lead to different destinations; make one more specific or give it a priority");
}

std::vector<Problem> Router::ambiguities() const {
  std::vector<Problem> out;
  // A route for one exact reader against the directory's entries of that reader: when
  // nothing else in the route narrows it, both match the same messages with one rank.
  for (const auto& r : config_->routes) {
    const auto rank = rank_of(r);
    if (rank.reader.kind != 2) continue;
    for (const auto& e : directory_->entries_for(r.match.reader)) {
      if (rank_of(e) != rank || config_->destinations.at(e.destination).id == r.destination) continue;
      if (!e.service.empty() && !glob_match(r.match.service, e.service)) continue;
      out.push_back(Problem::make(ProblemKind::config_invalid,
                                  "route '" + r.name + "' and " + directory_name(*directory_, e) + " both route reader '" +
                                      r.match.reader + "' with the same precedence (" + describe(rank) +
                                      ") to different destinations; give the route a priority or remove one")
                        .at(r.where));
    }
  }
  return out;
}

}  // namespace xoev
