// `xoevgate topics --config FILE`: creates every topic the gateway uses for a config
// (destination topics, their dead-letter topics, xoev.receipts) through Kafka's Admin
// API, so a real cluster needs no hand-kept topic list. Replication 3 with
// min.insync.replicas 2 by default; xoev.receipts is compacted by message id (the newest
// receipt per message is its whole status). A topic that already exists is success, so
// the command can run at every deployment. Exit 0 all present, 1 a topic was refused,
// 2 usage, config or cluster unreachable.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "gateway/cli/command.h"
#include "gateway/config/config.h"
#include "gateway/kafka/kafka_connection.h"
#include "gateway/kafka/kafka_problem.h"
#include "gateway/kafka/topic_names.h"
#include "gateway/runtime/kafka_runtime.h"

namespace {

using xoev::Problem;
using xoev::ProblemKind;

struct Options {
  std::string config;
  std::string bootstrap;  // overrides kafka.bootstrap
  int partitions = 0;     // 0: kafka.partitions of the config
  int replication = 3;
  int timeout_seconds = 30;
  bool dry_run = false;
};

struct TopicSpec {
  std::string name;
  int partitions = 0;
  int replication = 0;
  std::vector<std::pair<std::string, std::string>> settings;
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

std::string describe(const TopicSpec& t) {
  std::string out = t.name + " (partitions " + std::to_string(t.partitions) + ", replication " +
                    std::to_string(t.replication);
  for (const auto& [k, v] : t.settings) out += ", " + k + "=" + v;
  return out + ")";
}

struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* t) const { rd_kafka_NewTopic_destroy(t); }
};

// Sends one CreateTopics request and prints one line per topic. Returns the exit code.
int create(const xoev::KafkaConnection& connection, const std::vector<TopicSpec>& specs, int timeout_seconds) {
  auto conf = xoev::make_rdkafka_conf(connection);
  if (!conf) return xoev::cli::fail(conf.problem());
  auto client = xoev::make_rdkafka_handle(RD_KAFKA_PRODUCER, std::move(conf).value());
  if (!client) return xoev::cli::fail(client.problem());
  rd_kafka_t* rk = client->get();

  std::vector<std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter>> topics;
  char errstr[512];
  for (const auto& spec : specs) {
    std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter> topic(
        rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions, spec.replication, errstr, sizeof errstr));
    if (!topic) return xoev::cli::fail(Problem::make(ProblemKind::usage, spec.name + ": " + errstr));
    for (const auto& [key, value] : spec.settings)
      if (auto err = rd_kafka_NewTopic_set_config(topic.get(), key.c_str(), value.c_str()); err)
        return xoev::cli::fail(xoev::kafka_problem(ProblemKind::usage, spec.name + " " + key, err));
    topics.push_back(std::move(topic));
  }
  std::vector<rd_kafka_NewTopic_t*> raw;
  for (const auto& t : topics) raw.push_back(t.get());

  const int timeout_ms = timeout_seconds * 1000;
  std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter> options(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS));
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, errstr, sizeof errstr) ||
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, errstr, sizeof errstr))
    return xoev::cli::fail(Problem::make(ProblemKind::internal, std::string("admin options: ") + errstr));
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue(rd_kafka_queue_new(rk));
  rd_kafka_CreateTopics(rk, raw.data(), raw.size(), options.get(), queue.get());

  // The request timeout bounds the answer; the margin covers connecting first.
  std::unique_ptr<rd_kafka_event_t, EventDeleter> event(rd_kafka_queue_poll(queue.get(), timeout_ms + 5000));
  if (!event)
    return xoev::cli::fail(Problem::make(ProblemKind::io_error, "no answer from Kafka at " + connection.bootstrap +
                                                                    " within " + std::to_string(timeout_seconds) + "s"));
  if (auto err = rd_kafka_event_error(event.get()); err)
    return xoev::cli::fail(Problem::make(ProblemKind::io_error, "CreateTopics at " + connection.bootstrap + ": " +
                                                                    rd_kafka_event_error_string(event.get())));
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
  int exit_code = 0;
  for (size_t i = 0; i < count; ++i) {
    const std::string name = rd_kafka_topic_result_name(results[i]);
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    const auto spec = std::find_if(specs.begin(), specs.end(), [&](const TopicSpec& s) { return s.name == name; });
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::cout << "created " << (spec != specs.end() ? describe(*spec) : name) << "\n";
    } else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      std::cout << "exists  " << name << "\n";  // settings of an existing topic are left as they are
    } else {
      const char* why = rd_kafka_topic_result_error_string(results[i]);
      std::cerr << "xoevgate: topic " << name << " refused: " << (why ? why : rd_kafka_err2str(err)) << " ("
                << rd_kafka_err2name(err) << ")\n";
      const bool unreachable = err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT;
      exit_code = std::max(exit_code, unreachable ? 2 : 1);
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
