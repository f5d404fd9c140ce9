#include "gateway/api/api_security.h"


namespace xoev {

http::HttpResponse unauthorized_response(const Problem& problem, const std::string& instance) {
  auto response = http::HttpResponse::problem(problem, instance);
  std::string description = problem.detail.substr(0, 200);
  for (char& c : description)
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '\'';
  response.headers.emplace_back("WWW-Authenticate",
                                "Bearer realm=\"xoevgate\", error=\"invalid_token\", error_description=\"" + description + "\"");
  return response;
}

std::optional<Caller> identify(ApiSecurity& security, const http::HttpRequest& request, const http::Responder& respond,
                               bool rate_limited) {
  auto authenticator = security.authenticator ? security.authenticator() : nullptr;
  if (!authenticator || !authenticator->enabled()) return Caller{auth::Identity{"anonymous", false, "none"}, nullptr};
  auto identity = authenticator->authenticate(request, std::chrono::system_clock::now());
  if (!identity) {
    security.record({"refused", "", "", "", "", 401, identity.problem().slug(),
                     request.method + " " + request.path + ": " + identity.problem().detail, request.remote_address});
    respond(unauthorized_response(identity.problem(), request.path));
    return std::nullopt;
  }
  Caller caller{std::move(identity).value(), authenticator};
  if (rate_limited) {
    const auto* sender = caller.sender();
    if (sender)
      if (auto wait = security.rate_limiter.take(sender->id, sender->rate_limit_per_second)) {
        const std::string detail = "sender '" + sender->id + "' may send " +
                                   std::to_string(sender->rate_limit_per_second) + " requests a second";
        security.record({"refused", sender->id, "", "", "", 429, "too-many-requests", detail, request.remote_address});
        auto response = http::HttpResponse::problem(Problem::make(ProblemKind::too_many_requests, detail), request.path);
        response.headers.emplace_back("Retry-After", std::to_string(wait->count()));
        respond(std::move(response));
        return std::nullopt;
      }
  }
  return caller;
}

}  // namespace xoev
