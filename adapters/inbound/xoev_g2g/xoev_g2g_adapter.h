// XÖV Basisnachricht G2G 1.1: the head <nachrichtenkopf.g2g> as first-level child of
// the message root, qualified (http://xoev.de/schemata/basisnachricht/g2g/1_1) or
// unqualified. Used by XBeteiligung, XWasser, XBau 2.x and most current XÖV standards.
#pragma once

#include "adapters/inbound/inbound_adapter.h"

namespace xoev {
InboundAdapterPtr make_xoev_g2g_adapter();
}
