// Registers the xinneres standard with the inbound registry: the last built-in tried.
#include "adapters/inbound/xinneres/xinneres_adapter.h"
#include "gateway/config/inbound_registry.h"

namespace {

XOEVGATE_INBOUND_STANDARD("xinneres", 100, [](const xoev::Config&) -> xoev::Result<std::vector<xoev::InboundAdapterPtr>> {
  return std::vector<xoev::InboundAdapterPtr>{xoev::make_xinneres_adapter()};
});

}  // namespace
