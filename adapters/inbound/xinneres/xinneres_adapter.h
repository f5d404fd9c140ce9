// XInneres message heads (XMeld, XPersonenstand, XAusländer …): <nachrichtenkopf>
// below the root with parties given as behoerdenkennung = praefix + kennung.
#pragma once

#include "adapters/inbound/inbound_adapter.h"

namespace xoev {
InboundAdapterPtr make_xinneres_adapter();
}
