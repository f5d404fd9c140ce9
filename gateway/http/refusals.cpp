#include "gateway/http/refusals.h"

#include <nlohmann/json.hpp>

namespace xoev::http {

namespace {
HttpResponse problem_response(int status, std::string_view slug, std::string_view title, std::string detail) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/problem+json";
  const nlohmann::json body = {{"type", "urn:xoevgate:problem:" + std::string(slug)},
                               {"title", title},
                               {"status", status},
                               {"detail", std::move(detail)}};
  response.body = body.dump();
  return response;
}
}  // namespace

HttpResponse header_too_large(std::size_t limit) {
  return problem_response(431, "header-too-large", "Request header fields too large",
                          "the request header exceeds " + std::to_string(limit) + " bytes");
}

HttpResponse server_busy(std::string detail, std::chrono::seconds retry_after) {
  auto response = problem_response(503, "server-busy", "The server is busy", std::move(detail));
  response.headers.emplace_back("Retry-After", std::to_string(retry_after.count()));
  return response;
}

std::string server_busy_bytes(std::string detail, std::chrono::seconds retry_after) {
  const auto response = server_busy(std::move(detail), retry_after);
  std::string bytes = "HTTP/1.1 503 Service Unavailable\r\nServer: xoevgate\r\nContent-Type: " + response.content_type +
                      "\r\nRetry-After: " + std::to_string(retry_after.count()) +
                      "\r\nConnection: close\r\nContent-Length: " + std::to_string(response.body.size()) + "\r\n\r\n";
  return bytes + response.body;
}

}  // namespace xoev::http
