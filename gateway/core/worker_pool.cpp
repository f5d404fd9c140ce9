#include "gateway/core/worker_pool.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <exception>
#include <thread>

namespace xoev {
namespace {

std::size_t resolve_threads(std::size_t threads) {
  if (threads > 0) return threads;
  return std::max<std::size_t>(1, std::thread::hardware_concurrency());
}

}  // namespace

WorkerPool::WorkerPool(std::string name, std::size_t threads, std::size_t max_queued)
    : name_(std::move(name)),
      threads_(resolve_threads(threads)),
      max_queued_(std::max<std::size_t>(1, max_queued)),
      pool_(threads_) {}

WorkerPool::~WorkerPool() { join(); }

bool WorkerPool::try_post(std::function<void()> job) {
  if (joining_.load(std::memory_order_acquire)) return false;
  if (queued_.fetch_add(1, std::memory_order_acq_rel) >= max_queued_) {
    queued_.fetch_sub(1, std::memory_order_acq_rel);
    return false;
  }
  boost::asio::post(pool_, [this, job = std::move(job)] {
    static thread_local bool named = false;
    if (!named) {
      named = true;
      pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());  // the kernel keeps 15 characters
    }
    try {
      job();
    } catch (const std::exception& e) {
      spdlog::error("{}: a job failed: {}", name_, e.what());
    } catch (...) {
      spdlog::error("{}: a job failed", name_);
    }
    queued_.fetch_sub(1, std::memory_order_acq_rel);
  });
  return true;
}

void WorkerPool::join() {
  joining_.store(true, std::memory_order_release);
  pool_.join();  // waits for the queued jobs: nothing posted is silently dropped
}

}  // namespace xoev
