// What /metrics shows: collectors, each writing its families at scrape time from the
// counters, gauges and histograms its component owns (so a component needs no
// metrics code beyond its own members, and nothing is global).
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/metrics/exposition.h"

namespace xoev::metrics {

class Registry {
 public:
  using Collector = std::function<void(Exposition&)>;
  // Whatever the collector reads must outlive the registry's last render().
  void add(Collector collector);
  // The text exposition of every collector, in the order they were added.
  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::vector<Collector> collectors_;
};

}  // namespace xoev::metrics
