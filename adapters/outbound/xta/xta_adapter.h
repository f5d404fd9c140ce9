// The `xta` outbound adapter: deliver() puts the message into an XTA mailbox on disk,
// and for the adapter's lifetime a SOAP 1.2 endpoint lets the Fachverfahren poll it
// (getStatusList, getMessage, close) as it polls its XTA server today.
//   type: xta
//   directory: /var/lib/xoevgate/xta/<destination>   (absolute; the mailbox state)
//   listen: 127.0.0.1:8443                           (HOST:PORT)
#pragma once

#include "adapters/outbound/outbound_adapter.h"
#include "adapters/outbound/xta/xta_settings.h"
#include "gateway/core/result.h"

namespace xoev {

// config_invalid without directory or listen; io_error if the mailbox directory cannot be
// created; the HttpServer's Problem if the endpoint cannot bind.
Result<OutboundAdapterPtr> make_xta_adapter(const XtaSettings& config);

}  // namespace xoev
