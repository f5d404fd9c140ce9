// One long-lived consumer loop: a named std::jthread that opens its record source
// (retrying while the cluster is not reachable yet), runs the loop body until a stop
// is requested, and closes the source. The receipts tracker, the callback dispatcher
// and every deliverer are one of these; stop() (request_stop + join) is the one way
// to end them, and the destructor calls it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>

#include "gateway/core/result.h"
#include "gateway/kafka/record_source.h"

namespace xoev {

class ConsumerService {
 public:
  using Open = std::function<Result<std::unique_ptr<RecordSource>>()>;
  // Returns when `stop` is requested (or when it has nothing more to do).
  using Body = std::function<void(RecordSource& source, std::stop_token stop)>;

  // Starts the thread at once. `name` names the thread (the first 15 characters show
  // in top, ps -L and gdb) and the log lines about opening the source.
  ConsumerService(std::string name, Open open, Body body,
                  std::chrono::milliseconds reopen_after = std::chrono::seconds(1));
  ~ConsumerService();  // stop()
  ConsumerService(const ConsumerService&) = delete;
  ConsumerService& operator=(const ConsumerService&) = delete;

  // Requests the stop and waits until the body returned and the source is closed.
  // Idempotent; not from the service's own thread.
  void stop();
  // Asks for the stop without waiting (to stop several services together).
  void request_stop() { thread_.request_stop(); }
  const std::string& name() const { return name_; }

 private:
  void run(std::stop_token stop);

  const std::string name_;
  const Open open_;
  const Body body_;
  const std::chrono::milliseconds reopen_after_;
  std::jthread thread_;  // last: starts once everything it uses exists
};

// Sleeps `duration` unless a stop is requested first; true if it slept the whole time.
bool sleep_unless_stopped(const std::stop_token& stop, std::chrono::milliseconds duration);

}  // namespace xoev
