// The one error type of xoevgate. Every failure that crosses a unit boundary is a
// Problem: HTTP handlers render it as RFC 9457 problem+json, CLI commands print it
// as one line and exit with its exit code. No exceptions cross thread or library
// boundaries; code that calls throwing libraries converts at the call site.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace xoev {

enum class ProblemKind {
  malformed_xml,           // 400
  bad_request,             // 400
  unauthenticated,         // 401
  forbidden,               // 403
  not_found,               // 404
  payload_too_large,       // 413
  unsupported_media_type,  // 415
  schema_invalid,          // 422
  missing_routing_header,  // 422
  no_route,                // 422
  ambiguous_route,         // 422
  unknown_standard,        // 422
  invalid_routing_field,   // 422 (e.g. a Leitweg-ID whose check digits fail)
  too_many_requests,       // 429
  broker_unavailable,      // 503
  backlog_full,            // 503 (embedded cluster would drop undelivered records)
  config_invalid,          // CLI exit 2
  usage,                   // CLI exit 2
  io_error,                // CLI exit 2
  crypto,                  // decryption / verification failed
  rejected,                // an outbound target refused the message
  internal,                // 500
  method_not_allowed,      // 405 (the path exists, the method does not)
};

// A place in an input: a line/column in an XML body or a config file.
struct Location {
  std::string file;  // empty for request bodies
  int line = 0;
  int column = 0;
};

// One entry of problem.errors[] (schema errors, parse errors).
struct ProblemError {
  int line = 0;
  int column = 0;
  std::string element;  // element path like /xbeteiligung:x/nachrichtenkopf.g2g, may be empty
  std::string message;
};

struct Problem {
  ProblemKind kind = ProblemKind::internal;
  std::string title;
  std::string detail;
  std::optional<Location> location;
  std::vector<ProblemError> errors;

  static Problem make(ProblemKind kind, std::string detail);
  Problem&& at(Location where) &&;

  int http_status() const;
  int exit_code() const;            // CLI: 1 for content errors, 2 for usage/IO/config
  std::string type_uri() const;     // urn:xoevgate:problem:<slug>
  std::string slug() const;         // e.g. "no-route"
  nlohmann::json to_json() const;   // problem+json body
  std::string one_line() const;     // "file:line:col: title: detail" for the CLI
};

std::string_view default_title(ProblemKind kind);

}  // namespace xoev
