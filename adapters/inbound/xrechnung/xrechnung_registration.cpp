// Registers the xrechnung standard with the inbound registry: UBL and CII roots are unambiguous, so it is tried first among the built-ins.
#include "adapters/inbound/xrechnung/xrechnung_adapter.h"
#include "gateway/config/inbound_registry.h"

namespace {

XOEVGATE_INBOUND_STANDARD("xrechnung", 300, [](const xoev::Config&) -> xoev::Result<std::vector<xoev::InboundAdapterPtr>> {
  return std::vector<xoev::InboundAdapterPtr>{xoev::make_xrechnung_adapter()};
});

}  // namespace
