// Chooses a Handler by method and path prefix; answers 404 and 405 itself. A PathRouter is
// a Handler: HttpServer::start(options, router).
#pragma once

#include <string>
#include <vector>

#include "gateway/http/handler.h"

namespace xoev::http {

class PathRouter {
 public:
  // `prefix` matches the path itself and every path below it: "/v1/messages" matches
  // "/v1/messages" and "/v1/messages/abc" but not "/v1/messagesX". Among the routes
  // whose prefix matches and whose method equals the request's, the longest prefix wins.
  PathRouter& add(std::string method, std::string prefix, Handler handler);

  void operator()(HttpRequest&& request, Responder respond) const;

 private:
  struct Route {
    std::string method;
    std::string prefix;
    Handler handler;
  };
  std::vector<Route> routes_;
};

// True if `prefix` covers `path` in the sense above.
bool path_has_prefix(std::string_view path, std::string_view prefix);

}  // namespace xoev::http
