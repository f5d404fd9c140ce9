// `xoevgate send` as a real process against our HttpServer on loopback.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "gateway/http/http_server.h"

using namespace xoev::http;
namespace fs = std::filesystem;

namespace {

struct Run {
  int exit_code = -1;
  std::vector<nlohmann::json> lines;
};

Run run_send(const std::string& args) {
  Run run;
  const std::string command = std::string(XOEV_BINARY) + " send " + args + " 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char line[65536];
  while (fgets(line, sizeof line, pipe) != nullptr) run.lines.push_back(nlohmann::json::parse(line));
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class SendCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(XOEV_BINARY)) GTEST_FAIL() << "build target xoevgate first: " << XOEV_BINARY;
    dir_ = fs::temp_directory_path() / ("xoev-send-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    write("good.xml", "<good/>");
    write("also-good.xml", "<good n=\"2\"/>");
    write("bad.xml", "<bad/>");
    HttpServer::Options options;
    options.listen = "127.0.0.1:0";
    auto server = HttpServer::start(options, [this](HttpRequest&& request, Responder respond) {
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(request.method + " " + request.target + " " + request.header("content-type") + " " + request.body);
      }
      if (request.body.find("<bad") != std::string::npos) {
        return respond(HttpResponse::problem(xoev::Problem::make(xoev::ProblemKind::no_route, "no route"), request.path));
      }
      respond(HttpResponse::json(202, {{"messageId", "m-" + std::to_string(request.body.size())}, {"status", "accepted"}}));
    });
    ASSERT_TRUE(server) << server.problem().one_line();
    server_ = std::move(server).value();
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    server_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  void write(const std::string& name, const std::string& content) { std::ofstream(dir_ / name) << content; }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
  std::unique_ptr<HttpServer> server_;
  std::string base_;
  std::mutex mutex_;
  std::vector<std::string> seen_;
};

}  // namespace

TEST_F(SendCommand, PostsEachFileAndPrintsOneJsonLineEach) {
  auto run = run_send("--url " + base_ + " " + file("good.xml") + " " + file("also-good.xml"));
  EXPECT_EQ(run.exit_code, 0);
  ASSERT_EQ(run.lines.size(), 2u);
  EXPECT_EQ(run.lines[0]["file"], file("good.xml"));
  EXPECT_EQ(run.lines[0]["status"], 202);
  EXPECT_EQ(run.lines[0]["response"]["messageId"], "m-7");
  EXPECT_EQ(run.lines[1]["response"]["messageId"], "m-13");
  std::lock_guard lock(mutex_);
  ASSERT_EQ(seen_.size(), 2u);
  EXPECT_EQ(seen_[0], "POST /v1/messages application/xml <good/>");
}

TEST_F(SendCommand, FullSubmissionUrlIsUsedAsIs) {
  auto run = run_send("--url " + base_ + "/v1/messages " + file("good.xml"));
  EXPECT_EQ(run.exit_code, 0);
  std::lock_guard lock(mutex_);
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0].rfind("POST /v1/messages ", 0), 0u) << seen_[0];
}

TEST_F(SendCommand, RejectedFileGivesExitOneAndTheProblem) {
  auto run = run_send("--url " + base_ + "/ " + file("good.xml") + " " + file("bad.xml"));
  EXPECT_EQ(run.exit_code, 1);
  ASSERT_EQ(run.lines.size(), 2u);
  EXPECT_EQ(run.lines[1]["status"], 422);
  EXPECT_EQ(run.lines[1]["response"]["type"], "urn:xoevgate:problem:no-route");
}

TEST_F(SendCommand, MissingFileAndRefusedConnectionGiveExitTwo) {
  auto missing = run_send("--url " + base_ + " " + file("nope.xml") + " " + file("good.xml"));
  EXPECT_EQ(missing.exit_code, 2);
  ASSERT_EQ(missing.lines.size(), 2u);
  EXPECT_EQ(missing.lines[0]["error"]["type"], "urn:xoevgate:problem:io-error");
  EXPECT_EQ(missing.lines[1]["status"], 202);  // the other files are still sent

  const auto port = server_->port();
  server_.reset();  // nothing listens there any more
  auto refused = run_send("--url http://127.0.0.1:" + std::to_string(port) + " " + file("good.xml"));
  EXPECT_EQ(refused.exit_code, 2);
  ASSERT_EQ(refused.lines.size(), 1u);
  EXPECT_NE(refused.lines[0]["error"]["detail"].get<std::string>().find("refused"), std::string::npos);

  EXPECT_EQ(run_send(file("good.xml")).exit_code, 2);  // no --url
}
