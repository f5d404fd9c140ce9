#include "gateway/api/routing_table_json.h"

#include <algorithm>
#include <numeric>

namespace xoev {
namespace {

nlohmann::json match_json(const RouteMatch& m) {
  // Only the fields a route narrows; "*" everywhere is the catch-all ({}).
  nlohmann::json out = nlohmann::json::object();
  auto add = [&](const char* key, const std::string& pattern) {
    if (pattern != "*") out[key] = pattern;
  };
  add("reader", m.reader);
  add("region", m.region);
  add("service", m.service);
  add("message_type", m.message_type);
  add("standard", m.standard);
  add("author", m.author);
  return out;
}

// A directory file as the config's author wrote it: relative to the config when below it.
std::string shown(const std::string& file, const Config& config) {
  const auto relative = fs::path(file).lexically_relative(config.file.parent_path());
  return relative.empty() || *relative.begin() == ".." ? file : relative.string();
}

}  // namespace

nlohmann::json routing_table_json(const GatewaySnapshot& table, const std::optional<std::string>& reader) {
  const Config& config = table.config();
  const Router& router = table.router();

  std::vector<size_t> order(config.routes.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Most specific first; equal ranks keep the order of the file.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return router.route_rank(a) > router.route_rank(b); });
  auto routes = nlohmann::json::array();
  for (size_t i : order) {
    const auto& r = config.routes[i];
    routes.push_back({{"name", r.name},
                      {"match", match_json(r.match)},
                      {"destination", r.destination},
                      {"priority", r.priority},
                      {"rank", describe(router.route_rank(i))},
                      {"line", r.where.line}});
  }

  auto destinations = nlohmann::json::array();
  for (const auto& d : config.destinations)
    destinations.push_back({{"id", d.id}, {"topic", d.topic}, {"adapter", d.adapter.type}, {"in_process", d.adapter.in_process}});

  const RoutingDirectory& dir = router.directory();
  std::vector<size_t> per_file(dir.files().size(), 0);
  for (const auto& e : dir.entries()) ++per_file.at(e.file);
  auto files = nlohmann::json::array();
  for (size_t i = 0; i < per_file.size(); ++i) files.push_back({{"file", shown(dir.files()[i], config)}, {"entries", per_file[i]}});
  nlohmann::json directory = {{"entries", dir.size()}, {"files", std::move(files)}};
  if (reader) {
    auto entries = nlohmann::json::array();
    for (const auto& e : dir.entries_for(*reader))
      entries.push_back({{"reader", e.reader},
                         {"service", e.service},
                         {"destination", config.destinations.at(e.destination).id},
                         {"file", shown(dir.file_name(e.file), config)},
                         {"line", e.line}});
    directory["reader"] = *reader;
    directory["reader_entries"] = std::move(entries);
  }

  return {{"version", table.routing_version()},
          {"loaded_at", table.loaded_at()},
          {"routes", std::move(routes)},
          {"destinations", std::move(destinations)},
          {"directory", std::move(directory)}};
}

}  // namespace xoev
