// `xoevgate dlq list|replay --config FILE --destination ID [--id MESSAGE_ID] [--pending]
// [--dry-run] [--gateway URL [--token T]]`: straight from the cluster, or — for the
// embedded cluster, which lives inside `serve`, or with --gateway — through serve's
// admin endpoint /admin/dlq/{destination}. Progress goes to stderr, results to stdout.
#include <iostream>

#include "gateway/cli/command.h"
#include "gateway/dlq/dead_letter_query.h"
#include "gateway/http/http_client.h"
#include "gateway/status/receipt_signature.h"

namespace {

// The running gateway's address from its config: http://HOST:PORT (a wildcard listen
// address is reached on loopback).
std::string gateway_url_of(const xoev::Config& c) {
  std::string listen = c.gateway.listen;
  if (listen.rfind("0.0.0.0:", 0) == 0) listen = "127.0.0.1:" + listen.substr(8);
  return "http://" + listen;
}

// list: one JSON line per dead letter. replay: one summary line (a dry run first lists
// the letters it would replay).
int print(const nlohmann::json& answer, bool replay) {
  if (answer.contains("letters") && (!replay || answer.value("dryRun", false)))
    for (const auto& l : answer["letters"]) std::cout << l.dump() << "\n";
  if (replay) {
    nlohmann::json summary = {{"destination", answer.value("destination", "")}, {"dryRun", answer.value("dryRun", false)}};
    if (answer.contains("replayed")) summary["replayed"] = answer["replayed"];
    if (answer.contains("wouldReplay")) summary["wouldReplay"] = answer["wouldReplay"];
    std::cout << summary.dump() << "\n";
  }
  return 0;
}

int through_gateway(const std::string& base, const std::string& token, const xoev::DeadLetterQuery& q) {
  std::string target = "/admin/dlq/" + q.destination + (q.replay ? "/replay" : "");
  std::string sep = "?";
  auto param = [&](const std::string& kv) {
    target += sep + kv;
    sep = "&";
  };
  if (q.message_id) param("id=" + *q.message_id);
  if (q.pending_only) param("pending=1");
  if (q.dry_run) param("dry_run=1");
  xoev::http::HttpClient::Options options;
  options.total_timeout = std::chrono::minutes(10);  // reading a large DLQ takes a while
  auto client = xoev::http::HttpClient::create(options);
  if (!client) return xoev::cli::fail(client.problem());
  xoev::http::HttpClientRequest request;
  request.method = q.replay ? "POST" : "GET";
  request.url = base + target;
  if (!token.empty()) request.headers.emplace_back("Authorization", "Bearer " + token);
  std::cerr << "asking " << base << " (" << request.method << " " << target << ") …\n";
  auto response = client->send(request);
  if (!response) return xoev::cli::fail(response.problem());
  auto body = nlohmann::json::parse(response->body, nullptr, false);
  if (response->status != 200 || body.is_discarded()) {
    std::cerr << "xoevgate: the gateway answered " << response->status << ": " << response->body << "\n";
    return response->status == 404 || response->status == 403 || response->status == 401 ? 1 : 2;
  }
  return print(body, q.replay);
}

XOEVGATE_COMMAND("dlq", "list or replay a destination's dead letters", [](CLI::App& app) {
  auto action = std::make_shared<std::string>();
  auto config = std::make_shared<std::string>();
  auto query = std::make_shared<xoev::DeadLetterQuery>();
  auto id = std::make_shared<std::string>();
  auto gateway = std::make_shared<std::string>();
  auto token = std::make_shared<std::string>();
  app.add_option("ACTION", *action, "list | replay")->required()->check(CLI::IsMember({"list", "replay"}));
  app.add_option("--config", *config, "configuration file")->required();
  app.add_option("--destination", query->destination, "destination id")->required();
  app.add_option("--id", *id, "only this message id (replay: also if it was delivered since)");
  app.add_flag("--pending", query->pending_only, "list: only dead letters not delivered since");
  app.add_flag("--dry-run", query->dry_run, "replay: show what would be replayed, produce nothing");
  app.add_option("--gateway", *gateway,
                 "ask a running `serve` at this URL (default for an embedded cluster: its gateway.listen)");
  app.add_option("--token", *token, "bearer token of an admin sender (when the gateway has senders:)");
  return [=]() -> int {
    auto c = xoev::load_config(*config);
    if (!c) return xoev::cli::fail(c.problem());
    xoev::DeadLetterQuery q = *query;
    q.replay = *action == "replay";
    if (!id->empty()) q.message_id = *id;
    if (!gateway->empty() || c->kafka.embedded())
      return through_gateway(gateway->empty() ? gateway_url_of(*c) : *gateway, *token, q);
    const xoev::KafkaConnection conn{c->kafka.bootstrap, c->kafka.properties};
    auto signers = xoev::load_receipt_signers(c->keys);  // statuses come from verified receipts only
    if (!signers) return xoev::cli::fail(signers.problem());
    auto answer = xoev::answer_dead_letter_query(conn, *c, *signers, q,
                                                 [](const std::string& line) { std::cerr << line << "\n"; });
    if (!answer) return xoev::cli::fail(answer.problem());
    return print(*answer, q.replay);
  };
});

}  // namespace
