// Registers the xoev-g2g standard with the inbound registry: a G2G head is tried before an XInneres one.
#include "adapters/inbound/xoev_g2g/xoev_g2g_adapter.h"
#include "gateway/config/inbound_registry.h"

namespace {

XOEVGATE_INBOUND_STANDARD("xoev-g2g", 200, [](const xoev::Config&) -> xoev::Result<std::vector<xoev::InboundAdapterPtr>> {
  return std::vector<xoev::InboundAdapterPtr>{xoev::make_xoev_g2g_adapter()};
});

}  // namespace
