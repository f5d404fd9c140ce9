// Flow control for streamed submissions: a chunk that the backlog budget does not admit
// yet waits here (the sender's upload waits with it, through TCP back-pressure) until the
// deliverer has caught up, instead of being refused. One thread checks the waiting
// chunks every `period`. A slow deliverer is waited for as long as it drains the topic;
// a chunk is told `false` only when the topic's undelivered backlog has not fallen for
// `stall_limit` (the deliverer is stopped or stuck: no point in holding the sender).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gateway/kafka/backlog_monitor.h"

namespace xoev {

class BacklogWaiter {
 public:
  // While chunks wait, the waiter refreshes the offsets of their topics itself every
  // `period` (the monitor's own refresh is slower), so an upload follows its deliverer
  // closely: the budget (3 MiB on the mock cluster, ~9 sealed chunks) is what the
  // pipeline holds, so each round trip of this loop bounds the throughput. Measured with
  // bench/large.py, 105 MB: 1.81 s end to end at 20 ms, 1.55-1.6 s at 5, 1.42 s at 2.
  BacklogWaiter(BacklogMonitor& backlog, std::chrono::milliseconds period = std::chrono::milliseconds(2));
  ~BacklogWaiter();  // tells every waiting chunk `false`
  BacklogWaiter(const BacklogWaiter&) = delete;
  BacklogWaiter& operator=(const BacklogWaiter&) = delete;

  // Calls `then(true)` once `bytes` more fit the topic's budget, or `then(false)` after
  // `stall_limit` without progress, at `give_up_at` (if given) whatever the progress, or
  // at shutdown. Runs `then` on the waiter's thread: it must only post work. Admitting
  // reserves nothing: whoever is told `true` reserves (BacklogMonitor::try_reserve).
  // `refresh_every`: how stale the topic's offsets may be for this wait. A chunk of an
  // upload asks every round (0); a waiting single record asks less often: many of them
  // wait at once under load, and each round trip to the broker costs CPU the deliverer
  // needs (bench/loadgen.py: refreshing every 2 ms for them cost more than refusing).
  void when_admitted(std::string topic, size_t bytes, std::chrono::milliseconds stall_limit,
                     std::function<void(bool)> then,
                     std::optional<std::chrono::steady_clock::time_point> give_up_at = std::nullopt,
                     std::chrono::milliseconds refresh_every = std::chrono::milliseconds(0));
  size_t waiting() const;

 private:
  struct Waiting {
    std::string topic;
    size_t bytes;
    std::chrono::milliseconds stall_limit;
    std::chrono::steady_clock::time_point deadline;  // moved on whenever the backlog fell
    std::optional<std::chrono::steady_clock::time_point> give_up_at;  // never moved
    std::chrono::milliseconds refresh_every;
    size_t undelivered;                              // at the last look
    std::function<void(bool)> then;
  };
  void run(const std::stop_token& stop);

  BacklogMonitor& backlog_;
  const std::chrono::milliseconds period_;
  mutable std::mutex mu_;
  std::condition_variable_any wake_;
  std::vector<Waiting> waiting_;
  std::map<std::string, std::chrono::steady_clock::time_point> refreshed_;  // topic → last refresh here (run's thread)
  std::jthread thread_;
};

}  // namespace xoev
