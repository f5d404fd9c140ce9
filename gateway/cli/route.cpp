// `xoevgate route --config FILE --explain MESSAGE [--json]`: what the gateway would
// do with a message and why — the same inspector and router as POST /v1/messages.
// `--simulate FOLDER [--baseline OLD]`: what a routing change would do (route_simulation.h).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gateway/cli/command.h"
#include "gateway/cli/route_simulation.h"

namespace {

nlohmann::json explain(const xoev::cli::RoutingPreview& snap, const std::string& bytes) {
  using nlohmann::json;
  const auto inspection = snap.inspector().inspect(bytes);
  json j;
  j["root"] = inspection.root;
  j["adapter"] = inspection.adapter;
  const auto& h = inspection.header;
  if (inspection.schema) {
    j["schema"] = {{"standard", inspection.schema->standard},
                   {"version", inspection.schema->version},
                   {"xsd", inspection.schema->xsd.string()}};
  } else {
    j["schema"] = nullptr;
  }
  j["validated"] = inspection.validated;
  if (!inspection.adapter.empty() && !h.message_id.empty())
    j["fields"] = {{"messageId", h.message_id},   {"messageType", h.message_type.display()},
                   {"messageTypeCode", h.message_type.code}, {"messageTypeList", h.message_type.list_uri},
                   {"messageTypeLabel", h.message_type.label},
                   {"reader", h.reader},          {"author", h.author},
                   {"standard", h.standard},      {"version", h.version},
                   {"createdAt", h.created_at},   {"service", h.service},
                   {"reference", h.reference}};
  if (inspection.problem) {
    j["problem"] = inspection.problem->to_json();
    j["accepted"] = false;
  }
  if (!h.reader.empty()) {
    auto rules = json::array();
    for (const auto& c : snap.router().explain(h))
      rules.push_back({{"route", c.name},
                       {"file", c.where.file},
                       {"line", c.where.line},
                       {"destination", c.destination},
                       {"priority", c.rank.priority},
                       {"matched", c.matched},
                       {"precedence", describe(c.rank)},
                       {"why", c.matched ? "matches" : c.mismatch}});
    j["rules"] = rules;
    j["region"] = snap.router().region_of(h.reader);
    auto decision = snap.router().route(h);
    if (decision) {
      j["route"] = decision->route;
      j["destination"] = decision->destination->id;
      j["topic"] = decision->destination->topic;
    } else if (!inspection.problem) {
      j["problem"] = decision.problem().to_json();
      j["accepted"] = false;
    }
  }
  if (!j.contains("accepted")) j["accepted"] = true;
  return j;
}

void print_text(const nlohmann::json& j, const std::string& file) {
  std::cout << "message:     " << file << "\n";
  std::cout << "root:        " << j.value("root", "") << "\n";
  if (j["schema"].is_object())
    std::cout << "standard:    " << j["schema"]["standard"].get<std::string>() << " " << j["schema"]["version"].get<std::string>()
              << " (schema " << j["schema"]["xsd"].get<std::string>() << ")\n";
  else
    std::cout << "standard:    (no schema in the catalog)\n";
  std::cout << "adapter:     " << (j.value("adapter", "").empty() ? "(none detected)" : j.value("adapter", "")) << "\n";
  std::cout << "validation:  " << (j["validated"].get<bool>() ? "valid" : "not validated") << "\n";
  if (j.contains("fields"))
    for (const auto& [k, v] : j["fields"].items())
      if (!v.get<std::string>().empty()) std::cout << "  " << k << ": " << v.get<std::string>() << "\n";
  if (j.contains("rules")) {
    std::cout << "region:      " << (j.value("region", "").empty() ? "(none: the reader carries no AGS/ARS)" : j.value("region", ""))
              << "\n";
    std::cout << "rules (precedence: exact reader > reader glob > region > service > message type > standard > "
                 "author > priority):\n";
    for (const auto& r : j["rules"])
      std::cout << "  " << (r["matched"].get<bool>() ? "✔ " : "✘ ") << r["route"].get<std::string>() << " (line "
                << r["line"].get<int>() << "; " << r["precedence"].get<std::string>() << ") → "
                << r["destination"].get<std::string>() << ": " << r["why"].get<std::string>() << "\n";
  }
  if (j.contains("problem")) {
    const auto& p = j["problem"];
    std::cout << "result:      REFUSED " << p["status"].get<int>() << " " << p["type"].get<std::string>() << "\n  "
              << p.value("detail", "") << "\n";
    if (p.contains("errors"))
      for (const auto& e : p["errors"])
        std::cout << "  " << file << ":" << e["line"].get<int>() << ":" << e["column"].get<int>() << ": "
                  << e["message"].get<std::string>() << "\n";
  } else {
    std::cout << "result:      route " << j["route"].get<std::string>() << " → destination "
              << j["destination"].get<std::string>() << " (topic " << j["topic"].get<std::string>() << ")\n";
  }
}

std::string describe(const xoev::cli::SimulatedRoute& r) {
  return r.accepted ? r.destination + " (" + r.route + ")" : "REFUSED " + r.refusal;
}

// Exit codes like diff(1): 0 nothing changes, 1 something changes, 2 trouble. Without a
// baseline: 0 when every message would be accepted, 1 when one would be refused.
int print_simulation(const xoev::cli::Simulation& sim, bool with_baseline, bool as_json) {
  using nlohmann::json;
  if (as_json) {
    json j = {{"messages", sim.messages.size()}, {"changed", sim.changed},
              {"newlyRefused", sim.newly_refused}, {"newlyAccepted", sim.newly_accepted}};
    auto list = json::array();
    for (const auto& m : sim.messages) {
      auto side = [](const xoev::cli::SimulatedRoute& r) {
        return r.accepted ? json{{"destination", r.destination}, {"route", r.route}} : json{{"refused", r.refusal}};
      };
      json e = {{"file", m.file.string()}, {"proposed", side(m.proposed)}};
      if (with_baseline) {
        e["baseline"] = side(m.baseline);
        e["changed"] = !(m.baseline == m.proposed);
      }
      list.push_back(std::move(e));
    }
    j["results"] = std::move(list);
    std::cout << j.dump(2) << "\n";
  } else if (with_baseline) {
    for (const auto& m : sim.messages)
      if (!(m.baseline == m.proposed))
        std::cout << m.file.string() << "\n  before: " << describe(m.baseline) << "\n  after:  " << describe(m.proposed)
                  << "\n";
    std::cout << sim.messages.size() << " messages: " << sim.messages.size() - sim.changed << " unchanged, "
              << sim.changed - sim.newly_refused - sim.newly_accepted << " to another destination, "
              << sim.newly_refused << " newly refused, " << sim.newly_accepted << " newly accepted\n";
  } else {
    for (const auto& m : sim.messages) std::cout << m.file.string() << ": " << describe(m.proposed) << "\n";
  }
  if (with_baseline) return sim.changed == 0 ? 0 : 1;
  return std::all_of(sim.messages.begin(), sim.messages.end(), [](const auto& m) { return m.proposed.accepted; }) ? 0 : 1;
}

XOEVGATE_COMMAND("route", "explain how a message would be routed, or simulate a routing change on a folder of messages",
                 [](CLI::App& app) {
  auto config = std::make_shared<std::string>("config/gateway.yaml");
  auto file = std::make_shared<std::string>();
  auto folder = std::make_shared<std::string>();
  auto baseline = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  app.add_option("--config", *config, "configuration file (with --simulate: the proposed one)")->capture_default_str();
  auto* explain_opt = app.add_option("--explain", *file, "the XML message to explain");
  auto* simulate_opt = app.add_option("--simulate", *folder,
                                      "a folder of XML messages to route under --config (and --baseline); exit 0 when "
                                      "no destination changes, 1 when one does, 2 on errors");
  app.add_option("--baseline", *baseline, "the configuration in force now, to compare with")->needs(simulate_opt);
  explain_opt->excludes(simulate_opt);
  app.add_flag("--json", *as_json, "print JSON");
  return [config, file, folder, baseline, as_json]() -> int {
    if (!folder->empty()) {
      const std::filesystem::path base(*baseline);
      auto sim = xoev::cli::simulate(*folder, *config, baseline->empty() ? nullptr : &base);
      if (!sim) return xoev::cli::fail(sim.problem());
      return print_simulation(*sim, !baseline->empty(), *as_json);
    }
    if (file->empty())
      return xoev::cli::fail(xoev::Problem::make(xoev::ProblemKind::usage, "give --explain MESSAGE or --simulate FOLDER"));
    auto snap = xoev::cli::RoutingPreview::load(*config);
    if (!snap) return xoev::cli::fail(snap.problem());
    std::ifstream in(*file, std::ios::binary);
    if (!in) return xoev::cli::fail(xoev::Problem::make(xoev::ProblemKind::io_error, "cannot read " + *file));
    std::stringstream ss;
    ss << in.rdbuf();
    const auto j = explain(**snap, ss.str());
    if (*as_json) std::cout << j.dump(2) << "\n";
    else print_text(j, *file);
    return j["accepted"].get<bool>() ? 0 : 1;
  };
});

}  // namespace
