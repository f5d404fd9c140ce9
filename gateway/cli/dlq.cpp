// `xoevgate dlq list|replay --config FILE --destination ID [--id MESSAGE_ID]`.
#include <iostream>

#include "gateway/cli/command.h"
#include "gateway/dlq/dead_letters.h"
#include "gateway/status/receipt_signature.h"

namespace {

XOEVGATE_COMMAND("dlq", "list or replay a destination's dead letters", [](CLI::App& app) {
  auto action = std::make_shared<std::string>();
  auto config = std::make_shared<std::string>();
  auto destination = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  app.add_option("ACTION", *action, "list | replay")->required()->check(CLI::IsMember({"list", "replay"}));
  app.add_option("--config", *config, "configuration file")->required();
  app.add_option("--destination", *destination, "destination id")->required();
  app.add_option("--id", *id, "replay only this message id (also if it was delivered since)");
  return [=]() -> int {
    auto c = xoev::load_config(*config);
    if (!c) return xoev::cli::fail(c.problem());
    const auto* d = c->destination(*destination);
    if (!d) return xoev::cli::fail(xoev::Problem::make(xoev::ProblemKind::usage, "no destination '" + *destination + "'"));
    if (c->kafka.embedded())
      return xoev::cli::fail(xoev::Problem::make(
          xoev::ProblemKind::usage, "the embedded cluster lives inside `serve`; dead letters are reachable with "
                                    "`xoevgate dev-kafka` or a real cluster"));
    const xoev::KafkaConnection conn{c->kafka.bootstrap, c->kafka.properties};
    auto signers = xoev::load_receipt_signers(c->keys);  // statuses come from verified receipts only
    if (!signers) return xoev::cli::fail(signers.problem());
    auto letters = xoev::read_dead_letters(conn, *d, *signers);
    if (!letters) return xoev::cli::fail(letters.problem());
    if (*action == "list") {
      for (const auto& l : *letters) std::cout << l.to_json().dump() << "\n";
      return 0;
    }
    std::optional<std::string> only;
    if (!id->empty()) only = *id;
    auto n = xoev::replay_dead_letters(conn, *d, *letters, only, c->gateway.ack_timeout);
    if (!n) return xoev::cli::fail(n.problem());
    std::cout << "{\"replayed\": " << *n << ", \"destination\": \"" << d->id << "\"}\n";
    return 0;
  };
});

}  // namespace
