// XRechnung (EN 16931 electronic invoices to German public authorities) in both
// syntaxes: UBL 2.1 Invoice / CreditNote and UN/CEFACT CII D16B. The Leitweg-ID in
// BuyerReference routes the invoice: reader `leitweg:<id>`, its check digits verified.
#pragma once

#include "adapters/inbound/inbound_adapter.h"

namespace xoev {

InboundAdapterPtr make_xrechnung_adapter();

}  // namespace xoev
