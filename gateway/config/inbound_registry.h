// Inbound standards are extensions registered by name with an explicit priority:
// the ingest path tries the adapters of every registered standard, highest priority
// first, so the order is written where each standard is defined, not implied by a
// list somewhere in the core. Register with XOEVGATE_INBOUND_STANDARD.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "adapters/inbound/inbound_adapter.h"
#include "gateway/config/config.h"

namespace xoev {

struct InboundStandard {
  std::string name;
  // Higher first. Configured standards (an administrator's XPath rules) use 1000 so
  // they win over any built-in; built-ins use 100..900.
  int priority = 0;
  // The adapters this standard contributes for a config (most give one, the
  // configured standards one per `standards:` entry). Problems carry file:line.
  std::function<Result<std::vector<InboundAdapterPtr>>(const Config&)> make;
};

namespace inbound_registry {
void add(InboundStandard standard);
// Registered standards, highest priority first (ties by name, so the order is stable).
std::vector<InboundStandard> standards();
// Every adapter for a config, in the order the ingest path tries them.
Result<std::vector<InboundAdapterPtr>> make_all(const Config& config);
}  // namespace inbound_registry

struct InboundStandardRegistrar {
  explicit InboundStandardRegistrar(InboundStandard s) { inbound_registry::add(std::move(s)); }
};

}  // namespace xoev

#define XOEVGATE_INBOUND_CONCAT_(a, b) a##b
#define XOEVGATE_INBOUND_CONCAT(a, b) XOEVGATE_INBOUND_CONCAT_(a, b)
#define XOEVGATE_INBOUND_STANDARD(...) \
  static const ::xoev::InboundStandardRegistrar XOEVGATE_INBOUND_CONCAT(xoevgate_inbound_, __LINE__) { \
    ::xoev::InboundStandard{__VA_ARGS__} }
