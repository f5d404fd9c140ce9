#include "gateway/kafka/consumer_service.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>

namespace xoev {

bool sleep_unless_stopped(const std::stop_token& stop, std::chrono::milliseconds duration) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  return !cv.wait_for(lock, stop, duration, [] { return false; }) && !stop.stop_requested();
}

ConsumerService::ConsumerService(std::string name, Open open, Body body, std::chrono::milliseconds reopen_after)
    : name_(std::move(name)),
      open_(std::move(open)),
      body_(std::move(body)),
      reopen_after_(reopen_after),
      thread_([this](std::stop_token stop) { run(std::move(stop)); }) {}

ConsumerService::~ConsumerService() { stop(); }

void ConsumerService::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void ConsumerService::run(std::stop_token stop) {
  pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
  std::unique_ptr<RecordSource> source;
  auto last_log = std::chrono::steady_clock::time_point{};
  while (!stop.stop_requested()) {
    auto opened = open_();
    if (opened) {
      source = std::move(opened).value();
      break;
    }
    // The cluster or topic may not be there yet: keep trying, log at most every 10 s.
    if (std::chrono::steady_clock::now() - last_log > std::chrono::seconds(10)) {
      spdlog::warn("{}: cannot start consuming yet: {}", name_, opened.problem().one_line());
      last_log = std::chrono::steady_clock::now();
    }
    sleep_unless_stopped(stop, reopen_after_);
  }
  if (!source) return;  // stopped before the source could be opened
  body_(*source, stop);
  source->close();
}

}  // namespace xoev
