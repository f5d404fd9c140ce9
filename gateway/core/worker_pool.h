// A fixed set of threads for CPU-bound work (parse, validate, seal) with a bounded
// queue, so that work never runs on the HTTP I/O threads — those stay free to read,
// write and answer /healthz under any load — and a flood is refused, not queued for ever.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <functional>
#include <string>

namespace xoev {

class WorkerPool {
 public:
  // threads 0: one per core. max_queued: jobs waiting or running at once.
  WorkerPool(std::string name, std::size_t threads, std::size_t max_queued);
  ~WorkerPool();  // join()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False (and `job` not run) when max_queued jobs are already waiting or running, or
  // after join() began. A job must not throw; one that does is logged and dropped.
  bool try_post(std::function<void()> job);

  // Runs what is queued, then stops the threads; later try_post calls are refused.
  void join();

  std::size_t threads() const { return threads_; }
  std::size_t max_queued() const { return max_queued_; }
  std::size_t queued() const { return queued_.load(std::memory_order_relaxed); }

 private:
  const std::string name_;
  const std::size_t threads_;
  const std::size_t max_queued_;
  std::atomic<std::size_t> queued_{0};
  std::atomic<bool> joining_{false};
  boost::asio::thread_pool pool_;
};

}  // namespace xoev
