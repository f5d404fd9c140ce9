// Blocks SIGINT, SIGTERM and SIGHUP in every thread (call before starting any) and
// waits for them synchronously, so no handler runs in signal context.
#pragma once

#include <csignal>

namespace xoev {

class SignalWaiter {
 public:
  SignalWaiter() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  // Returns the signal received.
  int wait() const {
    int sig = 0;
    while (sigwait(&set_, &sig) != 0) {
    }
    return sig;
  }

 private:
  sigset_t set_{};
};

}  // namespace xoev
