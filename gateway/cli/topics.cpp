// `xoevgate topics --config FILE`: creates every topic the gateway uses for a config
// (destination topics, their dead-letter topics, xoev.receipts) through Kafka's Admin
// API, so a real cluster needs no hand-kept topic list. Replication 3 with
// min.insync.replicas 2 by default; xoev.receipts is compacted by message id (the newest
// receipt per message is its whole status). A topic that already exists is success, so
// the command can run at every deployment. Exit 0 all present, 1 a topic was refused,
// 2 usage, config or cluster unreachable.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "gateway/cli/command.h"
#include "gateway/config/config.h"
#include "gateway/kafka/kafka_connection.h"
#include "gateway/kafka/topic_admin.h"
#include "gateway/kafka/topic_names.h"
#include "gateway/runtime/kafka_runtime.h"

namespace {

using xoev::Problem;
using xoev::ProblemKind;
using xoev::TopicSpec;

struct Options {
  std::string config;
  std::string bootstrap;  // overrides kafka.bootstrap
  int partitions = 0;     // 0: kafka.partitions of the config
  int replication = 3;
  int timeout_seconds = 30;
  bool dry_run = false;
};

// A day of history before compaction may drop an older receipt of the same message.
constexpr const char* kReceiptsCompactionLagMs = "86400000";

std::vector<TopicSpec> plan(const xoev::Config& config, const Options& o) {
  const int partitions = o.partitions > 0 ? o.partitions : config.kafka.partitions;
  // A single-broker development cluster cannot hold 2 in-sync replicas.
  const std::string min_isr = std::to_string(std::min(2, o.replication));
  std::vector<TopicSpec> specs;
  for (const auto& name : xoev::gateway_topics(config)) {
    TopicSpec spec{name, partitions, o.replication, {{"min.insync.replicas", min_isr}}};
    if (name == xoev::names::kReceiptsTopic) {
      spec.settings.emplace_back("cleanup.policy", "compact");
      spec.settings.emplace_back("min.compaction.lag.ms", kReceiptsCompactionLagMs);
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

// Sends one CreateTopics request and prints one line per topic. Returns the exit code.
int create(const xoev::KafkaConnection& connection, const std::vector<TopicSpec>& specs, int timeout_seconds) {
  auto outcomes = xoev::create_topics(connection, specs, std::chrono::seconds(timeout_seconds));
  if (!outcomes) return xoev::cli::fail(outcomes.problem());
  int exit_code = 0;
  for (const auto& o : *outcomes) {
    const auto spec = std::find_if(specs.begin(), specs.end(), [&](const TopicSpec& s) { return s.name == o.name; });
    switch (o.kind) {
      case xoev::TopicOutcome::Kind::created:
        std::cout << "created " << (spec != specs.end() ? describe(*spec) : o.name) << "\n";
        break;
      case xoev::TopicOutcome::Kind::exists:
        std::cout << "exists  " << o.name << "\n";  // settings of an existing topic are left as they are
        break;
      case xoev::TopicOutcome::Kind::refused:
        std::cerr << "xoevgate: topic " << o.name << " refused: " << o.reason << "\n";
        exit_code = std::max(exit_code, o.unreachable ? 2 : 1);
        break;
    }
  }
  std::cout.flush();
  return exit_code;
}

int run(const Options& o) {
  auto config = xoev::load_config(o.config);
  if (!config) return xoev::cli::fail(config.problem());
  xoev::KafkaConnection connection{o.bootstrap.empty() ? config->kafka.bootstrap : o.bootstrap,
                                   config->kafka.properties};
  const auto specs = plan(*config, o);
  if (o.dry_run) {
    for (const auto& spec : specs) std::cout << "would create " << describe(spec) << "\n";
    return 0;
  }
  if (connection.bootstrap == "embedded")
    return xoev::cli::fail(Problem::make(
        ProblemKind::usage,
        "kafka.bootstrap is 'embedded': `serve` creates those topics itself; pass --bootstrap HOST:PORT,..."));
  return create(connection, specs, o.timeout_seconds);
}

XOEVGATE_COMMAND("topics", "create the config's topics on a Kafka cluster (destinations, dead letters, receipts)",
                 [](CLI::App& sub) {
                   auto o = std::make_shared<Options>();
                   sub.add_option("--config", o->config, "configuration file")->required();
                   sub.add_option("--bootstrap", o->bootstrap, "HOST:PORT,... (default: kafka.bootstrap)");
                   sub.add_option("--partitions", o->partitions, "partitions per topic (default: kafka.partitions)")
                       ->check(CLI::Range(1, 10000));
                   sub.add_option("--replication", o->replication, "replication factor (default 3)")
                       ->check(CLI::Range(1, 32));
                   sub.add_option("--timeout", o->timeout_seconds, "seconds to wait for the cluster (default 30)")
                       ->check(CLI::Range(1, 3600));
                   sub.add_flag("--dry-run", o->dry_run, "print the topics and their settings, change nothing");
                   return [o] { return run(*o); };
                 });

}  // namespace
