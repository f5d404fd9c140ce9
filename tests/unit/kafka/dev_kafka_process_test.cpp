// `xoevgate dev-kafka` as a separate process: bootstrap list on the first stdout line,
// clients in this process produce and consume over loopback, stdin control for fault
// tests, clean exit on SIGTERM.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <optional>

#include "kafka_test_support.h"

namespace xoev {
namespace {

using namespace std::chrono_literals;

class DevKafkaProcess {
 public:
  DevKafkaProcess() {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], STDIN_FILENO);
      dup2(out[1], STDOUT_FILENO);
      close(in[1]);
      close(out[0]);
      execl(XOEV_BINARY, XOEV_BINARY, "dev-kafka", "--brokers", "2", "--topic", "from-cli:2", "--control-stdin",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_child_ = in[1];
    from_child_ = out[0];
  }
  ~DevKafkaProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (to_child_ >= 0) close(to_child_);
    if (from_child_ >= 0) close(from_child_);
  }

  // One line of the child's stdout, or nullopt if none within `limit`.
  std::optional<std::string> read_line(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd pfd{from_child_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[1024];
      const ssize_t n = ::read(from_child_, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }
  bool send(const std::string& line) {
    const std::string data = line + "\n";
    return ::write(to_child_, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  }
  // Exit status after SIGTERM, or -1 if it did not exit within `limit`.
  int terminate(std::chrono::milliseconds limit) {
    kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      ::poll(nullptr, 0, 20);  // wait for the child; the assertion is on the deadline
    }
    return -1;
  }
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
  int to_child_ = -1, from_child_ = -1;
  bool exited_ = false;
  std::string buffer_;
};

TEST(DevKafkaProcess, ServesClientsOverLoopbackAndStopsOnSigterm) {
  DevKafkaProcess child;
  ASSERT_TRUE(child.started());
  auto bootstrap = child.read_line(10s);
  ASSERT_TRUE(bootstrap) << "no bootstrap line on stdout";
  EXPECT_EQ(bootstrap->rfind("127.0.0.1:", 0), 0u) << *bootstrap;
  EXPECT_EQ(std::count(bootstrap->begin(), bootstrap->end(), ','), 1) << "two brokers: " << *bootstrap;
  const KafkaConnection conn{*bootstrap, {}};

  auto producer = Producer::create(conn, "test", 20s);
  ASSERT_TRUE(producer);
  for (int i = 0; i < 4; ++i) {
    auto d = test::produce_sync(**producer, test::envelope("from-cli", "k" + std::to_string(i), "über loopback"));
    ASSERT_TRUE(d) << d.problem().detail;
    EXPECT_LT(d->partition, 2) << "--topic from-cli:2 created it with 2 partitions";
  }
  auto consumer = Consumer::create(conn, test::unique_name("group"), {"from-cli"}, true);
  ASSERT_TRUE(consumer);
  auto got = test::consume(**consumer, 4, 30s, true);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].env.value, "über loopback");

  ASSERT_TRUE(child.send("down 2"));
  EXPECT_EQ(child.read_line(5s).value_or("<none>"), "ok down 2");
  ASSERT_TRUE(child.send("up 2"));
  EXPECT_EQ(child.read_line(5s).value_or("<none>"), "ok up 2");
  ASSERT_TRUE(child.send("down 9"));
  EXPECT_EQ(child.read_line(5s).value_or("<none>").rfind("error down 9: ", 0), 0u);
  ASSERT_TRUE(child.send("topic another 5"));
  EXPECT_EQ(child.read_line(5s).value_or("<none>"), "ok topic another 5");
  auto d = test::produce_sync(**producer, test::envelope("from-cli", "after-up", "v"));
  EXPECT_TRUE(d);

  (*consumer)->close();
  producer->reset();
  EXPECT_EQ(child.terminate(10s), 0);
}

TEST(DevKafkaProcess, BadOptionsExitWithUsageError) {
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    execl(XOEV_BINARY, XOEV_BINARY, "dev-kafka", "--brokers", "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

}  // namespace
}  // namespace xoev
