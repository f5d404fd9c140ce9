#include "gateway/cli/route_simulation.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

#include "gateway/config/config.h"
#include "gateway/ingest/gateway_snapshot.h"
#include "gateway/ingest/message_inspector.h"
#include "gateway/route/router.h"

namespace xoev::cli {

Result<std::unique_ptr<RoutingPreview>> RoutingPreview::load(const std::filesystem::path& config_file) {
  auto config = load_config(config_file);
  if (!config) return config.problem();
  std::unique_ptr<RoutingPreview> t(new RoutingPreview());
  t->config_ = std::move(config).value();
  auto adapters = make_inbound_adapters(t->config_);
  if (!adapters) return adapters.problem();
  auto catalog = load_schema_catalog(t->config_);
  if (!catalog) return catalog.problem();
  t->inspector_ = std::make_unique<MessageInspector>(std::move(adapters).value(), std::move(catalog).value(),
                                                     t->config_.max_body_bytes());
  auto router = Router::build(t->config_);
  if (!router) return router.problem();
  t->router_ = std::move(router).value();
  return t;
}

namespace {

SimulatedRoute route_one(const RoutingPreview& table, const std::string& bytes) {
  SimulatedRoute out;
  auto inspected = table.inspector().accept(bytes);
  if (!inspected) {
    out.refusal = inspected.problem().slug() + ": " + inspected.problem().detail;
    return out;
  }
  auto decision = table.router().route(inspected->header);
  if (!decision) {
    out.refusal = decision.problem().slug() + ": " + decision.problem().detail;
    return out;
  }
  out.accepted = true;
  out.destination = decision->destination->id;
  out.route = decision->route;
  return out;
}

}  // namespace

Result<Simulation> simulate(const std::filesystem::path& messages, const std::filesystem::path& proposed,
                            const std::filesystem::path* baseline) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(messages, ec))
    return Problem::make(ProblemKind::io_error,
                         std::string("'").append(messages.string()).append("' is not a folder of messages"));
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(messages, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file(ec) && it->path().extension() == ".xml") files.push_back(it->path());
  if (ec) return Problem::make(ProblemKind::io_error, "cannot list '" + messages.string() + "': " + ec.message());
  std::sort(files.begin(), files.end());

  auto proposed_table = RoutingPreview::load(proposed);
  if (!proposed_table) return proposed_table.problem();
  std::unique_ptr<RoutingPreview> baseline_table;
  if (baseline) {
    auto loaded = RoutingPreview::load(*baseline);
    if (!loaded) return loaded.problem();
    baseline_table = std::move(loaded).value();
  }

  Simulation sim;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Problem::make(ProblemKind::io_error, "cannot read " + file.string());
    std::stringstream bytes;
    bytes << in.rdbuf();
    SimulatedMessage m;
    m.file = file;
    m.proposed = route_one(**proposed_table, bytes.str());
    if (baseline_table) {
      m.baseline = route_one(*baseline_table, bytes.str());
      if (!(m.baseline == m.proposed)) {
        ++sim.changed;
        if (m.baseline.accepted && !m.proposed.accepted) ++sim.newly_refused;
        if (!m.baseline.accepted && m.proposed.accepted) ++sim.newly_accepted;
      }
    }
    sim.messages.push_back(std::move(m));
  }
  return sim;
}

}  // namespace xoev::cli
