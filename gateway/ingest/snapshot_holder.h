// The current GatewaySnapshot, swapped whole on reload. A mutex-guarded shared_ptr:
// readers copy the pointer (nanoseconds) and keep their snapshot for the request.
#pragma once

#include <memory>
#include <mutex>

#include "gateway/ingest/gateway_snapshot.h"

namespace xoev {

class SnapshotHolder {
 public:
  explicit SnapshotHolder(std::shared_ptr<const GatewaySnapshot> s) : current_(std::move(s)) {}
  std::shared_ptr<const GatewaySnapshot> get() const {
    std::lock_guard lock(mu_);
    return current_;
  }
  void set(std::shared_ptr<const GatewaySnapshot> s) {
    std::lock_guard lock(mu_);
    current_.swap(s);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const GatewaySnapshot> current_;
};

}  // namespace xoev
