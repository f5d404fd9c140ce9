#include "gateway/ingest/backlog_waiter.h"

#include <set>

namespace xoev {

BacklogWaiter::BacklogWaiter(BacklogMonitor& backlog, std::chrono::milliseconds period)
    : backlog_(backlog), period_(period), thread_([this](std::stop_token stop) { run(stop); }) {}

BacklogWaiter::~BacklogWaiter() {
  thread_.request_stop();
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<Waiting> left;
  {
    std::lock_guard lock(mu_);
    left.swap(waiting_);
  }
  for (auto& w : left) w.then(false);
}

void BacklogWaiter::when_admitted(std::string topic, size_t bytes, std::chrono::milliseconds stall_limit,
                                  std::function<void(bool)> then,
                                  std::optional<std::chrono::steady_clock::time_point> give_up_at,
                                  std::chrono::milliseconds refresh_every) {
  const size_t undelivered = backlog_.undelivered_bytes(topic);
  {
    std::lock_guard lock(mu_);
    waiting_.push_back(
        {std::move(topic), bytes, stall_limit, std::chrono::steady_clock::now() + stall_limit, give_up_at, refresh_every,
         undelivered, std::move(then)});
  }
  wake_.notify_all();
}

size_t BacklogWaiter::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

void BacklogWaiter::run(const std::stop_token& stop) {
  std::unique_lock lock(mu_);
  while (!stop.stop_requested()) {
    if (waiting_.empty()) {
      wake_.wait(lock, stop, [&] { return !waiting_.empty(); });
      continue;
    }
    // The topics some waiter wants fresher than they are.
    std::set<std::string> topics;
    const auto round = std::chrono::steady_clock::now();
    for (const auto& w : waiting_) {
      auto last = refreshed_.find(w.topic);
      if (last == refreshed_.end() || round - last->second >= w.refresh_every) topics.insert(w.topic);
    }
    if (!topics.empty()) {
      for (const auto& t : topics) refreshed_[t] = round;
      lock.unlock();
      (void)backlog_.refresh_now(topics);  // the deliverer's commits since the last look; a failure shows in /readyz
      lock.lock();
    }
    // Answered outside the lock: a `then` may call when_admitted again.
    std::vector<std::pair<std::function<void(bool)>, bool>> answers;
    const auto now = std::chrono::steady_clock::now();
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      const size_t undelivered = backlog_.undelivered_bytes(it->topic);
      if (undelivered < it->undelivered) it->deadline = now + it->stall_limit;  // the deliverer moves
      it->undelivered = undelivered;
      if (backlog_.admits(it->topic, it->bytes)) answers.emplace_back(std::move(it->then), true);
      else if (now >= it->deadline || (it->give_up_at && now >= *it->give_up_at))
        answers.emplace_back(std::move(it->then), false);
      else {
        ++it;
        continue;
      }
      it = waiting_.erase(it);
    }
    lock.unlock();
    for (auto& [then, admitted] : answers) then(admitted);
    lock.lock();
    wake_.wait_for(lock, stop, period_, [] { return false; });
  }
}

}  // namespace xoev
