#include "gateway/http/http_response.h"

#include <nlohmann/json.hpp>

namespace xoev::http {

namespace {
// Details may quote bytes from a request; replace invalid UTF-8 instead of throwing.
std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }
}  // namespace

HttpResponse HttpResponse::json(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = dump(body);
  return r;
}

HttpResponse HttpResponse::problem(const xoev::Problem& problem, std::string_view instance) {
  nlohmann::json j = problem.to_json();
  if (!instance.empty()) j["instance"] = std::string(instance);
  HttpResponse r;
  r.status = problem.http_status();
  r.content_type = "application/problem+json";
  r.body = dump(j);
  return r;
}

}  // namespace xoev::http
