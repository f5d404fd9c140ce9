// Chooses a Handler by method and path prefix; answers 404 and 405 itself. A PathRouter is
// a Handler: HttpServer::start(options, router). Routes may also take large bodies as a
// stream (add_streaming); HttpServer::start(options, PathRouter) wires those up.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/body_stream.h"
#include "gateway/http/handler.h"

namespace xoev::http {

class PathRouter {
 public:
  // `prefix` matches the path itself and every path below it: "/v1/messages" matches
  // "/v1/messages" and "/v1/messages/abc" but not "/v1/messagesX". Among the routes
  // whose prefix matches and whose method equals the request's, the longest prefix wins.
  PathRouter& add(std::string method, std::string prefix, Handler handler);

  // Streams the bodies of `method` `prefix` requests that are chunked or whose
  // Content-Length exceeds `stream_above_bytes`; register the route's normal Handler
  // with add() as well, for the smaller ones.
  PathRouter& add_streaming(std::string method, std::string prefix, StreamingHandler handler,
                            std::uint64_t stream_above_bytes);

  void operator()(HttpRequest&& request, Responder respond) const;

  // The streaming route for a request, if the best match (longest prefix, as above)
  // is one: a longer normal route, e.g. /v1/messages/x under /v1/messages, wins.
  const StreamRoute* streaming_route(std::string_view method, std::string_view path) const;
  bool has_streaming_routes() const { return !streaming_.empty(); }

 private:
  struct Route {
    std::string method;
    std::string prefix;
    Handler handler;
  };
  struct Streaming {
    std::string method;
    std::string prefix;
    StreamRoute route;
  };
  std::vector<Route> routes_;
  std::vector<Streaming> streaming_;
};

// True if `prefix` covers `path` in the sense above.
bool path_has_prefix(std::string_view path, std::string_view prefix);

}  // namespace xoev::http
