// What a Handler answers. The server adds Content-Length (and Connection) itself.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "gateway/core/file_range.h"
#include "gateway/core/problem.h"
#include "gateway/http/http_headers.h"

namespace xoev::http {

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";  // empty: no Content-Type header
  std::string body;
  HeaderList headers;  // extra fields, e.g. Location, Retry-After, Allow
  // A body too large to hold: `body`, then these file bytes (read and sent a piece at a
  // time), then `body_after`. Content-Length counts all three.
  std::shared_ptr<const FileRange> body_file;
  std::string body_after;

  static HttpResponse json(int status, const nlohmann::json& body);
  // RFC 9457 application/problem+json with the Problem's status; `instance` (e.g. the
  // request path) is added when given.
  static HttpResponse problem(const xoev::Problem& problem, std::string_view instance = {});
};

}  // namespace xoev::http
