// `xoevgate dev-kafka`: the embedded Kafka-protocol cluster alone, for multi-process
// setups and tests. First line of stdout: the bootstrap list (flushed); logs on stderr;
// runs until SIGINT/SIGTERM.
//
// It identifies itself by its cluster id ("mockCluster…", librdkafka's mock cluster):
// a gateway or deliverer pointed at it recognises a cluster that drops records past
// ~5 MB per partition and applies the embedded back-pressure by itself
// (BacklogMonitor::Applies::if_cluster_drops_records), for destination and DLQ topics.
//
// Hidden --control-stdin (for fault tests): reads one command per line from stdin and
// answers one line on stdout, "ok <command>" or "error <command>: <why>":
//   down N | up N          take broker N (1..brokers) down / bring it up again
//   topic NAME [PARTITIONS] create a topic (default: --partitions)
#include <poll.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "gateway/cli/command.h"
#include "gateway/kafka/embedded_cluster.h"
#include "gateway/runtime/systemd_notify.h"

namespace {

struct DevKafkaOptions {
  int brokers = 3;
  int partitions = 3;
  std::vector<std::string> topics;
  bool control_stdin = false;
};

// "NAME" or "NAME:PARTITIONS".
xoev::Status create_topic_spec(xoev::EmbeddedCluster& cluster, const std::string& spec) {
  const auto colon = spec.rfind(':');
  if (colon == std::string::npos) return cluster.create_topic(spec);
  int partitions = 0;
  try {
    partitions = std::stoi(spec.substr(colon + 1));
  } catch (const std::exception&) {
    return xoev::Problem::make(xoev::ProblemKind::usage, "--topic " + spec + ": expected NAME or NAME:PARTITIONS");
  }
  return cluster.create_topic(spec.substr(0, colon), partitions);
}

std::string run_command(xoev::EmbeddedCluster& cluster, const std::string& line) {
  std::istringstream in(line);
  std::string verb, arg;
  in >> verb >> arg;
  xoev::Status s = xoev::Problem::make(xoev::ProblemKind::usage, "unknown command (down N | up N | topic NAME [N])");
  if ((verb == "down" || verb == "up") && !arg.empty()) {
    try {
      s = cluster.set_broker_up(std::stoi(arg), verb == "up");
    } catch (const std::exception&) {
      s = xoev::Problem::make(xoev::ProblemKind::usage, "broker id must be a number");
    }
  } else if (verb == "topic" && !arg.empty()) {
    std::string partitions;
    in >> partitions;
    s = create_topic_spec(cluster, partitions.empty() ? arg : arg + ":" + partitions);
  }
  return s ? "ok " + line : "error " + line + ": " + s.problem().detail;
}

// Reads commands until stop; poll() with a timeout so that it never outlives the cluster.
void control_loop(xoev::EmbeddedCluster& cluster, const std::atomic<bool>& stop) {
  std::string pending;
  char buf[4096];
  while (!stop) {
    pollfd pfd{STDIN_FILENO, POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) continue;
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) return;  // stdin closed: keep running without control
    pending.append(buf, static_cast<size_t>(n));
    for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      std::cout << run_command(cluster, line) << std::endl;
    }
  }
}

XOEVGATE_COMMAND("dev-kafka", "run the embedded Kafka-protocol cluster alone (prints its bootstrap list first)",
                 [](CLI::App& sub) {
                   auto opts = std::make_shared<DevKafkaOptions>();
                   sub.add_option("--brokers", opts->brokers, "number of brokers")->check(CLI::Range(1, 32));
                   sub.add_option("--partitions", opts->partitions, "partitions of topics created with --topic")
                       ->check(CLI::Range(1, 1000));
                   sub.add_option("--topic", opts->topics,
                                  "create NAME or NAME:PARTITIONS up front (topics created on first use get 4)");
                   sub.add_flag("--control-stdin", opts->control_stdin,
                                "read fault-test commands from stdin: down N, up N, topic NAME [N]")
                       ->group("");  // hidden
                   return [opts]() -> int {
                     spdlog::set_default_logger(spdlog::stderr_color_mt("dev-kafka"));
                     // Signals are taken by sigwait below; block them before any thread starts.
                     sigset_t signals;
                     sigemptyset(&signals);
                     sigaddset(&signals, SIGINT);
                     sigaddset(&signals, SIGTERM);
                     pthread_sigmask(SIG_BLOCK, &signals, nullptr);

                     auto cluster = xoev::EmbeddedCluster::start(opts->brokers, opts->partitions);
                     if (!cluster) return xoev::cli::fail(cluster.problem());
                     for (const auto& spec : opts->topics)
                       if (auto s = create_topic_spec(**cluster, spec); !s) return xoev::cli::fail(s.problem());
                     std::cout << (*cluster)->bootstrap() << std::endl;  // endl: flushed for the parent process
                     if (auto s = xoev::systemd_notify_ready("brokers at " + (*cluster)->bootstrap()); !s)
                       spdlog::warn("dev-kafka: {}", s.problem().one_line());

                     std::atomic<bool> stop{false};
                     std::thread control;
                     if (opts->control_stdin) control = std::thread([&] { control_loop(**cluster, stop); });
                     int sig = 0;
                     sigwait(&signals, &sig);
                     spdlog::info("dev-kafka: {} received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
                     (void)xoev::systemd_notify_stopping();
                     stop = true;
                     if (control.joinable()) control.join();
                     return 0;
                   };
                 });

}  // namespace
