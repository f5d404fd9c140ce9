#include "gateway/api/gateway_api.h"

#include <algorithm>
#include <cctype>
#include <memory>

#include "gateway/api/routing_table_json.h"
#include "gateway/api/token_request.h"
#include "gateway/auth/send_rights.h"
#include "gateway/core/text.h"
#include "gateway/http/refusals.h"

namespace xoev {

bool is_xml_media_type(std::string_view ct) {
  std::string t(ct.substr(0, ct.find(';')));
  t.erase(std::remove_if(t.begin(), t.end(), [](unsigned char c) { return std::isspace(c); }), t.end());
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (t == "application/xml" || t == "text/xml") return true;
  return t.rfind("application/", 0) == 0 && t.size() > 16 && t.compare(t.size() - 4, 4, "+xml") == 0;
}

namespace {

// The answer to POST /v1/messages (buffered or streamed) and its audit line.
void answer_submission(GatewayApiDeps& d, const http::Responder& respond, audit::AuditEvent& facts,
                       Result<Acceptance> r) {
  if (!r) {
    facts.event = "refused";
    facts.status = r.problem().http_status();
    facts.result = r.problem().slug();
    facts.detail = r.problem().detail;
    d.security->record(facts);
    auto resp = http::HttpResponse::problem(r.problem(), "/v1/messages");
    if (r.problem().http_status() == 503) resp.headers.emplace_back("Retry-After", "5");
    return respond(std::move(resp));
  }
  const std::string id = r->body.value("messageId", std::string{});
  d.security->submitters.remember(id, facts.sender);
  facts.event = "accepted";
  facts.message_id = id;
  facts.destination = r->body.value("destination", std::string{});
  facts.status = r->http_status;
  facts.result = r->http_status == 200 ? "resent" : "ok";
  d.security->record(facts);
  auto resp = http::HttpResponse::json(r->http_status, r->body);
  resp.headers.emplace_back("Location", "/v1/messages/" + id);
  respond(std::move(resp));
}

// The rights check of a submission, once its head is known; fills the audit facts' id.
HeaderCheck rights_check(std::shared_ptr<audit::AuditEvent> facts, Caller caller) {
  return [facts = std::move(facts), caller = std::move(caller)](const RoutingHeader& h) -> Status {
    facts->message_id = h.message_id;
    if (const auto* sender = caller.sender()) return auth::check_may_send(*sender, h);
    if (!caller.anonymous())
      return Problem::make(ProblemKind::forbidden, "sender '" + caller.identity.sender + "' is no longer configured");
    return ok_status();
  };
}

// A large body, fed to a StreamedSubmission piece by piece (README "Large messages").
class SubmissionStream final : public http::BodyStream {
 public:
  SubmissionStream(std::shared_ptr<GatewayApiDeps> d, std::shared_ptr<StreamedSubmission> submission,
                   std::shared_ptr<audit::AuditEvent> facts)
      : d_(std::move(d)), submission_(std::move(submission)), facts_(std::move(facts)) {}
  void on_piece(std::string_view bytes, std::function<void()> more) override {
    submission_->piece(bytes, std::move(more));
  }
  void on_end(http::Responder respond) override {
    submission_->end([d = d_, facts = facts_, sub = submission_, respond](Result<Acceptance> r) {
      facts->payload_sha256 = sub->payload_sha256_hex();
      answer_submission(*d, respond, *facts, std::move(r));
    });
  }
  void on_abort(std::string_view why) override { submission_->abort(std::string(why)); }

 private:
  std::shared_ptr<GatewayApiDeps> d_;
  std::shared_ptr<StreamedSubmission> submission_;
  std::shared_ptr<audit::AuditEvent> facts_;
};

}  // namespace

http::PathRouter make_gateway_api(GatewayApiDeps deps) {
  auto d = std::make_shared<GatewayApiDeps>(std::move(deps));
  http::PathRouter router;

  router.add("POST", "/v1/messages", [d](http::HttpRequest&& req, http::Responder respond) {
    if (req.path != "/v1/messages")
      return respond(http::HttpResponse::problem(Problem::make(ProblemKind::not_found, "no such resource"), req.path));
    // Credentials are in the header: checked before anything looks at the body.
    auto caller = identify(*d->security, req, respond, /*rate_limited=*/true);
    if (!caller) return;
    const std::string ct = req.header("content-type");
    if (!is_xml_media_type(ct)) {
      d->security->record({"refused", caller->identity.sender, "", audit::sha256_hex(req.body), "", 415,
                           "unsupported-media-type", "Content-Type '" + ct.substr(0, 100) + "'", req.remote_address});
      return respond(http::HttpResponse::problem(
          Problem::make(ProblemKind::unsupported_media_type,
                        "send the XML document as Content-Type: application/xml (got '" + ct + "')"),
          req.path));
    }
    // The body moves into the job once; the I/O thread goes back to reading at once.
    auto body = std::make_shared<std::string>(std::move(req.body));
    auto job = [d, respond, body, caller = std::move(*caller), remote = req.remote_address,
                traceparent = req.header("traceparent")]() mutable {
      auto facts = std::make_shared<audit::AuditEvent>();
      facts->sender = caller.identity.sender;
      facts->payload_sha256 = audit::sha256_hex(*body);
      facts->remote_address = remote;
      HeaderCheck check = rights_check(facts, caller);
      d->pipeline.submit(std::move(*body), std::move(traceparent), [d, respond, facts](Result<Acceptance> r) {
        answer_submission(*d, respond, *facts, std::move(r));
      }, check, caller.anonymous() ? std::string() : caller.identity.sender);
    };
    if (!d->accept_workers.try_post(std::move(job)))
      respond(http::server_busy("all " + std::to_string(d->accept_workers.max_queued()) +
                                    " places for submissions being checked are taken; retry later",
                                std::chrono::seconds(1)));
  });

  // Bodies above one chunk are streamed: validated, sealed and produced while they arrive.
  if (d->stream_workers)
    router.add_streaming(
        "POST", "/v1/messages",
        [d](const http::HttpRequest& req, http::Responder& respond) -> std::unique_ptr<http::BodyStream> {
          if (req.path != "/v1/messages") {
            respond(http::HttpResponse::problem(Problem::make(ProblemKind::not_found, "no such resource"), req.path));
            return nullptr;
          }
          auto caller = identify(*d->security, req, respond, /*rate_limited=*/true);
          if (!caller) return nullptr;
          const std::string ct = req.header("content-type");
          if (!is_xml_media_type(ct)) {
            d->security->record({"refused", caller->identity.sender, "", "", "", 415, "unsupported-media-type",
                                 "Content-Type '" + ct.substr(0, 100) + "'", req.remote_address});
            respond(http::HttpResponse::problem(
                Problem::make(ProblemKind::unsupported_media_type,
                              "send the XML document as Content-Type: application/xml (got '" + ct + "')"),
                req.path));
            return nullptr;
          }
          auto facts = std::make_shared<audit::AuditEvent>();
          facts->sender = caller->identity.sender;
          facts->remote_address = req.remote_address;
          const std::string sender = caller->anonymous() ? std::string() : caller->identity.sender;
          auto submission = StreamedSubmission::start(d->pipeline, *d->stream_workers, d->backlog_waiter,
                                                      d->stream_options, req.header("traceparent"),
                                                      rights_check(facts, std::move(*caller)), sender);
          return std::make_unique<SubmissionStream>(d, std::move(submission), std::move(facts));
        },
        d->stream_options.chunk_bytes);

  router.add("POST", "/v1/token", [d](http::HttpRequest&& req, http::Responder respond) {
    if (req.path != "/v1/token")
      return respond(http::HttpResponse::problem(Problem::make(ProblemKind::not_found, "no such resource"), req.path));
    auto authenticator = d->security->authenticator ? d->security->authenticator() : nullptr;
    if (!authenticator || !authenticator->enabled())
      return respond(http::HttpResponse::problem(
          Problem::make(ProblemKind::not_found, "no senders are configured: this gateway issues no tokens"), req.path));
    auto request = parse_token_request(req);
    if (!request.error.empty()) return respond(token_error(400, request.error, request.description, false));
    // PBKDF2 is slow on purpose: off the I/O threads.
    auto token_job = [d, respond, authenticator, request, remote = req.remote_address] {
      auto issued = authenticator->issue_token(request.client_id, request.client_secret, std::chrono::system_clock::now());
      if (!issued) {
        d->security->record({"refused", "", "", "", "", 401, "invalid-client",
                             "POST /v1/token for client_id '" + request.client_id.substr(0, 100) + "'", remote});
        return respond(token_error(401, "invalid_client", issued.problem().detail, request.used_basic));
      }
      d->security->record({"token-issued", issued->sender, "", "", "", 200, "ok",
                           "expires in " + std::to_string(issued->expires_in.count()) + "s", remote});
      auto resp = http::HttpResponse::json(200, {{"access_token", issued->access_token},
                                                 {"token_type", "Bearer"},
                                                 {"expires_in", issued->expires_in.count()}});
      resp.headers.emplace_back("Cache-Control", "no-store");
      respond(std::move(resp));
    };
    if (!d->accept_workers.try_post(std::move(token_job)))
      respond(http::server_busy("the gateway is busy; retry later", std::chrono::seconds(1)));
  });

  router.add("GET", "/v1/messages", [d](http::HttpRequest&& req, http::Responder respond) {
    const std::string prefix = "/v1/messages/";
    if (req.path.size() <= prefix.size() || req.path.compare(0, prefix.size(), prefix) != 0)
      return respond(http::HttpResponse::problem(
          Problem::make(ProblemKind::not_found, "ask for one message: GET /v1/messages/{messageId}"), req.path));
    auto caller = identify(*d->security, req, respond, /*rate_limited=*/false);
    if (!caller) return;
    const std::string id = req.path.substr(prefix.size());
    auto m = d->status.get(id);
    // Another sender's message is answered like an unknown one: ids are not disclosed.
    // Who submitted it: remembered since this process accepted it, else from the receipts.
    const bool visible = caller->anonymous() || caller->identity.admin ||
                         d->security->submitters.submitter(id) == caller->identity.sender ||
                         (m && !m->sender.empty() && m->sender == caller->identity.sender);
    if (!m || !visible)
      return respond(http::HttpResponse::problem(
          Problem::make(ProblemKind::not_found, "no message with id '" + id.substr(0, 128) + "' is known"), req.path));
    auto json = m->to_json();
    // Server paths only for admins; anonymous callers are nobody in particular, so they
    // see none either (the audit and server logs keep the path).
    if ((caller->anonymous() || !caller->identity.admin) && json.contains("detail") && json["detail"].is_string())
      json["detail"] = without_paths(json["detail"].get<std::string>());
    respond(http::HttpResponse::json(200, json));
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

  router.add("GET", "/metrics", [d](http::HttpRequest&& req, http::Responder respond) {
    if (!require_admin(*d->security, req, respond, "GET /metrics")) return;
    http::HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = d->metrics();
    respond(std::move(r));
  });
  // GET /admin/dlq/{destination}[?pending=1][&id=ID]          list
  // POST /admin/dlq/{destination}/replay[?id=ID][&dry_run=1]   replay (admin role)
  auto dlq = [d](http::HttpRequest&& req, http::Responder respond) {
    const bool replay = req.method == "POST";
    const std::string what = req.method + " " + req.path;
    auto caller = require_admin(*d->security, req, respond, what);
    if (!caller) return;
    DeadLetterQuery query;
    std::string rest = req.path.substr(std::string("/admin/dlq/").size() - 1);
    if (!rest.empty() && rest.front() == '/') rest.erase(0, 1);
    if (replay) {
      const std::string suffix = "/replay";
      if (rest.size() <= suffix.size() || rest.compare(rest.size() - suffix.size(), suffix.size(), suffix) != 0)
        return respond(http::HttpResponse::problem(
            Problem::make(ProblemKind::not_found, "replay with POST /admin/dlq/{destination}/replay"), req.path));
      rest.resize(rest.size() - suffix.size());
    }
    if (rest.empty() || rest.find('/') != std::string::npos)
      return respond(http::HttpResponse::problem(
          Problem::make(ProblemKind::not_found, "name one destination: /admin/dlq/{destination}"), req.path));
    query.destination = rest;
    query.replay = replay;
    for (const auto& [key, value] : query_parameters(req.target)) {
      if (key == "id") query.message_id = value;
      else if (key == "pending") query.pending_only = value == "1" || value == "true";
      else if (key == "dry_run") query.dry_run = value == "1" || value == "true";
    }
    if (!d->dead_letters)
      return respond(http::HttpResponse::problem(Problem::make(ProblemKind::not_found, "no dead-letter access here"), req.path));
    auto job = [d, respond, query, caller = *caller, what, remote = req.remote_address, path = req.path] {
      auto answer = d->dead_letters(query);
      d->security->record({"admin-action", caller.identity.sender, query.message_id.value_or(""), "", query.destination,
                           answer ? 200 : answer.problem().http_status(), answer ? "ok" : answer.problem().slug(),
                           what + (query.dry_run ? " (dry run)" : ""), remote});
      if (!answer) return respond(http::HttpResponse::problem(answer.problem(), path));
      respond(http::HttpResponse::json(200, *answer));
    };
    WorkerPool& workers = d->admin_workers ? *d->admin_workers : d->accept_workers;
    if (!workers.try_post(std::move(job)))
      respond(http::server_busy("a dead-letter action is already running; retry later", std::chrono::seconds(5)));
  };
  router.add("GET", "/admin/dlq", dlq);
  router.add("POST", "/admin/dlq", dlq);

  // POST /admin/reload: the SIGHUP reload, answered. 200 with the new version, or 422
  // with every reason while the old table stays live.
  router.add("POST", "/admin/reload", [d](http::HttpRequest&& req, http::Responder respond) {
    if (req.path != "/admin/reload" || !d->reload)
      return respond(http::HttpResponse::problem(Problem::make(ProblemKind::not_found, "no such resource"), req.path));
    const std::string what = "POST /admin/reload";
    auto caller = require_admin(*d->security, req, respond, what);
    if (!caller) return;
    // Reloading compiles schemas and may create topics: off the I/O threads.
    auto job = [d, respond, sender = caller->identity.sender, remote = req.remote_address, what] {
      const ReloadOutcome outcome = d->reload();
      if (outcome.reloaded()) {
        d->security->record({"config-reloaded", sender, "", "", "", 200, "ok", what + ": routing table " + outcome.version, remote});
        return respond(http::HttpResponse::json(200, {{"status", "reloaded"}, {"version", outcome.version}}));
      }
      auto reasons = nlohmann::json::array();
      for (const auto& p : outcome.reasons) reasons.push_back(p.one_line());
      Problem refused = Problem::make(ProblemKind::config_invalid,
                                      "the configuration was not loaded (" + std::to_string(outcome.reasons.size()) +
                                          (outcome.reasons.size() == 1 ? " reason" : " reasons") + "); routing table " +
                                          outcome.version + " stays live");
      d->security->record({"config-reloaded", sender, "", "", "", 422, "config-invalid",
                           what + ": refused, " + outcome.reasons.front().one_line().substr(0, 300), remote});
      auto body = refused.to_json();
      body["status"] = 422;
      body["instance"] = "/admin/reload";
      body["reasons"] = std::move(reasons);
      body["version"] = outcome.version;
      auto resp = http::HttpResponse::json(422, body);
      resp.content_type = "application/problem+json";
      respond(std::move(resp));
    };
    WorkerPool& workers = d->admin_workers ? *d->admin_workers : d->accept_workers;
    if (!workers.try_post(std::move(job)))
      respond(http::server_busy("an admin action is already running; retry later", std::chrono::seconds(5)));
  });

  // GET /admin/routes[?reader=praefix:kennung]: the live table.
  router.add("GET", "/admin/routes", [d](http::HttpRequest&& req, http::Responder respond) {
    if (req.path != "/admin/routes" || !d->live_table)
      return respond(http::HttpResponse::problem(Problem::make(ProblemKind::not_found, "no such resource"), req.path));
    auto caller = require_admin(*d->security, req, respond, "GET /admin/routes");
    if (!caller) return;
    std::optional<std::string> reader;
    for (const auto& [key, value] : query_parameters(req.target))
      if (key == "reader") reader = percent_decoded(value);
    const auto table = d->live_table();
    d->security->record({"admin-action", caller->identity.sender, "", "", "", 200, "ok",
                         "GET /admin/routes: routing table " + table->routing_version(), req.remote_address});
    respond(http::HttpResponse::json(200, routing_table_json(*table, reader)));
  });
  return router;
}

std::optional<Caller> require_admin(ApiSecurity& security, const http::HttpRequest& req, const http::Responder& respond,
                                    const std::string& what) {
  auto caller = identify(security, req, respond, /*rate_limited=*/false);
  if (!caller) return std::nullopt;
  if (caller->anonymous() || caller->identity.admin) return caller;
  security.record({"refused", caller->identity.sender, "", "", "", 403, "forbidden", what + " needs the admin role",
                   req.remote_address});
  respond(http::HttpResponse::problem(
      Problem::make(ProblemKind::forbidden, what + " needs the admin role (admins: in the config)"), req.path));
  return std::nullopt;
}

std::string percent_decoded(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i] == '+' ? ' ' : text[i]);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> query_parameters(std::string_view target) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  rest = rest.substr(0, rest.find('#'));
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    out.emplace_back(std::string(pair.substr(0, eq)), eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace xoev
