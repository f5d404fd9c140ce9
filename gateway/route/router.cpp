#include "gateway/route/router.h"

#include <algorithm>
#include <cctype>

#include "gateway/core/glob.h"

namespace xoev {

std::string Router::region_of(const std::string& reader) {
  const auto colon = reader.find(':');
  const std::string id = colon == std::string::npos ? reader : reader.substr(colon + 1);
  size_t n = 0;
  while (n < id.size() && std::isdigit(static_cast<unsigned char>(id[n]))) ++n;
  return id.substr(0, n);
}

std::vector<RouteCandidate> Router::explain(const RoutingHeader& h) const {
  std::vector<RouteCandidate> out;
  const std::string region = region_of(h.reader);
  for (const auto& r : config_->routes) {
    RouteCandidate c;
    c.route = &r;
    const auto& m = r.match;
    auto check = [&](const char* field, const std::string& pattern, const std::string& value) {
      if (!c.mismatch.empty()) return;
      if (!glob_match(pattern, value))
        c.mismatch = std::string(field) + " '" + value + "' does not match '" + pattern + "'";
      c.specificity += glob_specificity(pattern);
    };
    check("standard", m.standard, h.standard);
    // A message type pattern may name the code (0401) or the name (…BeteiligungNeu.0401).
    if (c.mismatch.empty()) {
      if (!glob_match(m.message_type, h.message_type.code) && !glob_match(m.message_type, h.message_type.name))
        c.mismatch = "message type '" + h.message_type.display() + "' (code " + h.message_type.code +
                     ") does not match '" + m.message_type + "'";
      c.specificity += glob_specificity(m.message_type);
    }
    check("reader", m.reader, h.reader);
    check("author", m.author, h.author);
    check("region", m.region, region);
    check("service", m.service, h.service);
    c.matched = c.mismatch.empty();
    out.push_back(std::move(c));
  }
  return out;
}

Result<RouteDecision> Router::route(const RoutingHeader& h) const {
  auto candidates = explain(h);
  const RouteCandidate* best = nullptr;
  const RouteCandidate* tie = nullptr;
  for (const auto& c : candidates) {
    if (!c.matched) continue;
    if (!best || c.route->priority > best->route->priority ||
        (c.route->priority == best->route->priority && c.specificity > best->specificity)) {
      best = &c;
      tie = nullptr;
    } else if (c.route->priority == best->route->priority && c.specificity == best->specificity &&
               c.route->destination != best->route->destination) {
      tie = &c;
    }
  }
  if (!best)
    return Problem::make(ProblemKind::no_route, "no route for reader '" + h.reader + "', message type '" +
                                                    h.message_type.display() + "', standard '" + h.standard + "'");
  if (tie)
    return Problem::make(ProblemKind::ambiguous_route,
                         "routes '" + best->route->name + "' (line " + std::to_string(best->route->where.line) +
                             ") and '" + tie->route->name + "' (line " + std::to_string(tie->route->where.line) +
                             ") match equally well and lead to different destinations; make one more specific or give it a priority");
  return RouteDecision{best->route, config_->destination(best->route->destination)};
}

}  // namespace xoev
