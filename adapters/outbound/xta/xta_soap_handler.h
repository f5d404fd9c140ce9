// One SOAP 1.2 request of the XTA msgBoxPortType → its response: getStatusList,
// getMessage and close against a Mailbox. Synchronous and free of HTTP, so the
// server can run it off its I/O threads and tests can call it directly.
#pragma once

#include <string>
#include <string_view>

#include "adapters/outbound/xta/xta_mailbox.h"

namespace xoev::xta {

inline constexpr std::size_t kMaxSoapRequestBytes = 1u << 20;  // requests are small; messages go out, not in

struct SoapReply {
  int http_status = 200;  // SOAP 1.2 HTTP binding: 400 for env:Sender faults, 500 for the others
  std::string body;       // application/soap+xml
};

SoapReply handle_soap_request(Mailbox& mailbox, std::string_view request_body);

}  // namespace xoev::xta
