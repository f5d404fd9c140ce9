#include "gateway/config/outbound_registry.h"

#include <algorithm>
#include <map>

namespace xoev::outbound_registry {
namespace {

// A function-local static: registrars in other translation units run before main
// in unspecified order, and this is built on first use by whichever comes first.
std::map<std::string, std::unique_ptr<OutboundAdapterFactory>, std::less<>>& factories() {
  static std::map<std::string, std::unique_ptr<OutboundAdapterFactory>, std::less<>> all;
  return all;
}

}  // namespace

const OutboundAdapterFactory* find(std::string_view type) {
  const auto it = factories().find(type);
  return it == factories().end() ? nullptr : it->second.get();
}

std::vector<std::string> types() {
  std::vector<std::string> out;
  for (const auto& [name, f] : factories()) out.push_back(name);
  return out;
}

void add(std::unique_ptr<OutboundAdapterFactory> factory) {
  const std::string name(factory->type());
  factories()[name] = std::move(factory);
}

Result<OutboundAdapterPtr> create(const DestinationSection& d) {
  const auto* f = find(d.adapter.type);
  if (!f || !d.adapter.settings)
    return Problem::make(ProblemKind::config_invalid,
                         "adapter type '" + d.adapter.type + "' of destination '" + d.id + "' is not available in this build")
        .at(d.adapter.where);
  return f->create(d);
}

}  // namespace xoev::outbound_registry
