#include "gateway/core/problem.h"

#include <nlohmann/json.hpp>

namespace xoev {
namespace {

struct KindInfo {
  std::string_view slug;
  std::string_view title;
  int status;
  int exit;
};

KindInfo info(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::malformed_xml: return {"malformed-xml", "The body is not well-formed XML", 400, 1};
    case ProblemKind::bad_request: return {"bad-request", "Bad request", 400, 2};
    case ProblemKind::unauthenticated: return {"unauthenticated", "Authentication required", 401, 1};
    case ProblemKind::forbidden: return {"forbidden", "Sender may not do this", 403, 1};
    case ProblemKind::not_found: return {"not-found", "Not found", 404, 1};
    case ProblemKind::payload_too_large: return {"payload-too-large", "Message exceeds the size limit", 413, 1};
    case ProblemKind::unsupported_media_type: return {"unsupported-media-type", "Unsupported media type", 415, 2};
    case ProblemKind::schema_invalid: return {"schema-invalid", "The message does not conform to its schema", 422, 1};
    case ProblemKind::missing_routing_header: return {"missing-routing-header", "The message has no usable routing header", 422, 1};
    case ProblemKind::no_route: return {"no-route", "No route matches the message", 422, 1};
    case ProblemKind::ambiguous_route: return {"ambiguous-route", "More than one route matches equally well", 422, 1};
    case ProblemKind::unknown_standard: return {"unknown-standard", "The message belongs to no configured standard", 422, 1};
    case ProblemKind::invalid_routing_field: return {"invalid-routing-field", "A routing field is invalid", 422, 1};
    case ProblemKind::too_many_requests: return {"too-many-requests", "Too many requests", 429, 1};
    case ProblemKind::broker_unavailable: return {"broker-unavailable", "The Kafka broker did not acknowledge in time", 503, 1};
    case ProblemKind::backlog_full: return {"backlog-full", "Too many undelivered messages for this destination", 503, 1};
    case ProblemKind::config_invalid: return {"config-invalid", "Invalid configuration", 500, 2};
    case ProblemKind::usage: return {"usage", "Usage error", 400, 2};
    case ProblemKind::io_error: return {"io-error", "Input/output error", 500, 2};
    case ProblemKind::crypto: return {"crypto", "Cryptographic check failed", 400, 1};
    case ProblemKind::rejected: return {"rejected", "The target rejected the message", 422, 1};
    case ProblemKind::internal: return {"internal", "Internal error", 500, 2};
    case ProblemKind::method_not_allowed: return {"method-not-allowed", "Method not allowed", 405, 2};
  }
  return {"internal", "Internal error", 500, 2};
}

}  // namespace

std::string_view default_title(ProblemKind kind) { return info(kind).title; }

Problem Problem::make(ProblemKind kind, std::string detail) {
  Problem p;
  p.kind = kind;
  p.title = std::string(info(kind).title);
  p.detail = std::move(detail);
  return p;
}

Problem&& Problem::at(Location where) && {
  location = std::move(where);
  return std::move(*this);
}

int Problem::http_status() const { return info(kind).status; }
int Problem::exit_code() const { return info(kind).exit; }
std::string Problem::slug() const { return std::string(info(kind).slug); }
std::string Problem::type_uri() const { return "urn:xoevgate:problem:" + slug(); }

nlohmann::json Problem::to_json() const {
  nlohmann::json j = {{"type", type_uri()}, {"title", title}, {"status", http_status()}};
  if (!detail.empty()) j["detail"] = detail;
  if (location) {
    if (!location->file.empty()) j["file"] = location->file;
    if (location->line > 0) j["line"] = location->line;
    if (location->column > 0) j["column"] = location->column;
  }
  if (!errors.empty()) {
    auto arr = nlohmann::json::array();
    for (const auto& e : errors) {
      nlohmann::json item = {{"line", e.line}, {"column", e.column}, {"message", e.message}};
      if (!e.element.empty()) item["element"] = e.element;
      arr.push_back(std::move(item));
    }
    j["errors"] = std::move(arr);
  }
  return j;
}

std::string Problem::one_line() const {
  std::string out;
  if (location) {
    if (!location->file.empty()) out += location->file + ":";
    if (location->line > 0) out += std::to_string(location->line) + ":";
    if (location->column > 0) out += std::to_string(location->column) + ":";
    if (!out.empty()) out += " ";
  }
  out += title;
  if (!detail.empty()) out += ": " + detail;
  return out;
}

}  // namespace xoev
