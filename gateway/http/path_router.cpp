#include "gateway/http/path_router.h"

#include <algorithm>

namespace xoev::http {

bool path_has_prefix(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || prefix.ends_with('/') || path[prefix.size()] == '/';
}

PathRouter& PathRouter::add(std::string method, std::string prefix, Handler handler) {
  routes_.push_back({std::move(method), std::move(prefix), std::move(handler)});
  return *this;
}

PathRouter& PathRouter::add_streaming(std::string method, std::string prefix, StreamingHandler handler,
                                      std::uint64_t stream_above_bytes) {
  streaming_.push_back({std::move(method), std::move(prefix), {std::move(handler), stream_above_bytes}});
  return *this;
}

const StreamRoute* PathRouter::streaming_route(std::string_view method, std::string_view path) const {
  const Streaming* best = nullptr;
  for (const auto& candidate : streaming_) {
    if (candidate.method != method || !path_has_prefix(path, candidate.prefix)) continue;
    if (best == nullptr || candidate.prefix.size() > best->prefix.size()) best = &candidate;
  }
  if (best == nullptr) return nullptr;
  for (const auto& route : routes_) {
    if (route.method == method && path_has_prefix(path, route.prefix) && route.prefix.size() > best->prefix.size()) {
      return nullptr;
    }
  }
  return &best->route;
}

void PathRouter::operator()(HttpRequest&& request, Responder respond) const {
  const Route* best = nullptr;
  std::vector<std::string> allowed;  // methods of matching paths, for 405's Allow
  for (const auto& route : routes_) {
    if (!path_has_prefix(request.path, route.prefix)) continue;
    if (route.method != request.method) {
      if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end()) allowed.push_back(route.method);
      continue;
    }
    if (best == nullptr || route.prefix.size() > best->prefix.size()) best = &route;
  }
  if (best != nullptr) return best->handler(std::move(request), std::move(respond));
  if (allowed.empty()) {
    return respond(HttpResponse::problem(Problem::make(ProblemKind::not_found, "no resource at " + request.path),
                                         request.path));
  }
  std::string allow;
  for (const auto& method : allowed) allow += (allow.empty() ? "" : ", ") + method;
  auto answer = HttpResponse::problem(
      Problem::make(ProblemKind::method_not_allowed, request.method + " is not supported here; use " + allow),
      request.path);
  answer.headers.emplace_back("Allow", allow);
  respond(std::move(answer));
}

}  // namespace xoev::http
