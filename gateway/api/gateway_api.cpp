#include "gateway/api/gateway_api.h"

#include <algorithm>
#include <cctype>
#include <memory>

#include "gateway/http/refusals.h"

namespace xoev {

bool is_xml_media_type(std::string_view ct) {
  std::string t(ct.substr(0, ct.find(';')));
  t.erase(std::remove_if(t.begin(), t.end(), [](unsigned char c) { return std::isspace(c); }), t.end());
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (t == "application/xml" || t == "text/xml") return true;
  return t.rfind("application/", 0) == 0 && t.size() > 16 && t.compare(t.size() - 4, 4, "+xml") == 0;
}

http::PathRouter make_gateway_api(GatewayApiDeps deps) {
  auto d = std::make_shared<GatewayApiDeps>(std::move(deps));
  http::PathRouter router;

  router.add("POST", "/v1/messages", [d](http::HttpRequest&& req, http::Responder respond) {
    if (req.path != "/v1/messages")
      return respond(http::HttpResponse::problem(Problem::make(ProblemKind::not_found, "no such resource"), req.path));
    const std::string ct = req.header("content-type");
    if (!is_xml_media_type(ct))
      return respond(http::HttpResponse::problem(
          Problem::make(ProblemKind::unsupported_media_type,
                        "send the XML document as Content-Type: application/xml (got '" + ct + "')"),
          req.path));
    // The body moves into the job once; the I/O thread goes back to reading at once.
    auto body = std::make_shared<std::string>(std::move(req.body));
    auto job = [d, respond, body, traceparent = req.header("traceparent")]() mutable {
      d->pipeline.submit(std::move(*body), std::move(traceparent), [respond](Result<Acceptance> r) {
        if (!r) {
          auto resp = http::HttpResponse::problem(r.problem(), "/v1/messages");
          if (r.problem().http_status() == 503) resp.headers.emplace_back("Retry-After", "5");
          return respond(std::move(resp));
        }
        auto resp = http::HttpResponse::json(r->http_status, r->body);
        resp.headers.emplace_back("Location", "/v1/messages/" + r->body.value("messageId", std::string{}));
        respond(std::move(resp));
      });
    };
    if (!d->accept_workers.try_post(std::move(job)))
      respond(http::server_busy("all " + std::to_string(d->accept_workers.max_queued()) +
                                    " places for submissions being checked are taken; retry later",
                                std::chrono::seconds(1)));
  });

  router.add("GET", "/v1/messages", [d](http::HttpRequest&& req, http::Responder respond) {
    const std::string prefix = "/v1/messages/";
    if (req.path.size() <= prefix.size() || req.path.compare(0, prefix.size(), prefix) != 0)
      return respond(http::HttpResponse::problem(
          Problem::make(ProblemKind::not_found, "ask for one message: GET /v1/messages/{messageId}"), req.path));
    const std::string id = req.path.substr(prefix.size());
    auto m = d->status.get(id);
    if (!m)
      return respond(http::HttpResponse::problem(
          Problem::make(ProblemKind::not_found, "no message with id '" + id.substr(0, 128) + "' is known"), req.path));
    respond(http::HttpResponse::json(200, m->to_json()));
  });

  router.add("GET", "/healthz", [](http::HttpRequest&&, http::Responder respond) {
    respond(http::HttpResponse::json(200, {{"status", "up"}}));
  });

  router.add("GET", "/readyz", [d](http::HttpRequest&& req, http::Responder respond) {
    const Status s = d->ready();
    if (!s) {
      Problem p = s.problem();
      p.kind = ProblemKind::broker_unavailable;
      p.title = "Not ready";
      return respond(http::HttpResponse::problem(p, req.path));
    }
    respond(http::HttpResponse::json(200, {{"status", "ready"}}));
  });

  router.add("GET", "/metrics", [d](http::HttpRequest&&, http::Responder respond) {
    http::HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = d->metrics();
    respond(std::move(r));
  });
  return router;
}

}  // namespace xoev
