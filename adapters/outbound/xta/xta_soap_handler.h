// One SOAP 1.2 request of the XTA msgBoxPortType → its response: getStatusList,
// getMessage and close against a Mailbox. Synchronous and free of HTTP, so the
// server can run it off its I/O threads and tests can call it directly.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "adapters/outbound/xta/xta_mailbox.h"

namespace xoev::xta {

inline constexpr std::size_t kMaxSoapRequestBytes = 1u << 20;  // requests are small; messages go out, not in

struct SoapReply {
  SoapReply(int status, std::string soap) : http_status(status), body(std::move(soap)) {}
  int http_status = 200;  // SOAP 1.2 HTTP binding: 400 for env:Sender faults, 500 for the others
  std::string body;       // application/soap+xml
  // A large message's getMessage (MTOM): the body is followed by these file bytes and
  // then `after`, under this content type.
  std::string content_type;  // empty: application/soap+xml
  std::shared_ptr<const FileRange> attachment;
  std::string after;
};

SoapReply handle_soap_request(Mailbox& mailbox, std::string_view request_body);

}  // namespace xoev::xta
