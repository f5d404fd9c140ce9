#include "gateway/metrics/registry.h"

namespace xoev::metrics {

void Registry::add(Collector collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::render() const {
  Exposition out;
  std::lock_guard lock(mu_);
  for (const auto& c : collectors_) c(out);
  return out.text();
}

}  // namespace xoev::metrics
