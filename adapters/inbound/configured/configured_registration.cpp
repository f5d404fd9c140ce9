// Registers the configured standards: one adapter per `standards:` entry, in the
// order of the file, tried before every built-in (an administrator's rule wins).
#include "adapters/inbound/configured/configured_adapter.h"
#include "gateway/config/inbound_registry.h"

namespace {

XOEVGATE_INBOUND_STANDARD("configured", 1000,
                          [](const xoev::Config& config) -> xoev::Result<std::vector<xoev::InboundAdapterPtr>> {
                            std::vector<xoev::InboundAdapterPtr> adapters;
                            for (const auto& s : config.standards) {
                              auto a = xoev::make_configured_adapter(s);
                              if (!a) return xoev::Problem(a.problem()).at(s.where);
                              adapters.push_back(std::move(a).value());
                            }
                            return adapters;
                          });

}  // namespace
