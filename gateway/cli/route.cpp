// `xoevgate route --config FILE --explain MESSAGE [--json]`: what the gateway would
// do with a message and why — the same inspector and router as POST /v1/messages.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gateway/cli/command.h"
#include "gateway/ingest/gateway_snapshot.h"

namespace {

nlohmann::json explain(const xoev::GatewaySnapshot& snap, const std::string& bytes) {
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
      rules.push_back({{"route", c.route->name},
                       {"line", c.route->where.line},
                       {"destination", c.route->destination},
                       {"priority", c.route->priority},
                       {"matched", c.matched},
                       {"specificity", c.specificity},
                       {"why", c.matched ? "matches" : c.mismatch}});
    j["rules"] = rules;
    auto decision = snap.router().route(h);
    if (decision) {
      j["route"] = decision->route->name;
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
    std::cout << "rules:\n";
    for (const auto& r : j["rules"])
      std::cout << "  " << (r["matched"].get<bool>() ? "✔ " : "✘ ") << r["route"].get<std::string>() << " (line "
                << r["line"].get<int>() << ", priority " << r["priority"].get<int>() << ", specificity "
                << r["specificity"].get<int>() << ") → " << r["destination"].get<std::string>() << ": "
                << r["why"].get<std::string>() << "\n";
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

XOEVGATE_COMMAND("route", "explain how a message would be validated and routed", [](CLI::App& app) {
  auto config = std::make_shared<std::string>("config/gateway.yaml");
  auto file = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  app.add_option("--config", *config, "configuration file")->capture_default_str();
  app.add_option("--explain", *file, "the XML message to explain")->required();
  app.add_flag("--json", *as_json, "print JSON");
  return [config, file, as_json]() -> int {
    auto c = xoev::load_config(*config);
    if (!c) return xoev::cli::fail(c.problem());
    auto snap = xoev::GatewaySnapshot::build(std::move(c).value());
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
