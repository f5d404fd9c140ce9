#include "gateway/config/inbound_registry.h"

#include <algorithm>

namespace xoev::inbound_registry {
namespace {

std::vector<InboundStandard>& all() {
  static std::vector<InboundStandard> standards;
  return standards;
}

}  // namespace

void add(InboundStandard standard) { all().push_back(std::move(standard)); }

std::vector<InboundStandard> standards() {
  auto out = all();
  std::sort(out.begin(), out.end(), [](const InboundStandard& a, const InboundStandard& b) {
    return a.priority != b.priority ? a.priority > b.priority : a.name < b.name;
  });
  return out;
}

Result<std::vector<InboundAdapterPtr>> make_all(const Config& config) {
  std::vector<InboundAdapterPtr> adapters;
  for (const auto& s : standards()) {
    auto made = s.make(config);
    if (!made) return made.problem();
    for (auto& a : *made) adapters.push_back(std::move(a));
  }
  return adapters;
}

}  // namespace xoev::inbound_registry
