// One request as the server hands it to a Handler: fully read, body within the limit. A
// StreamingHandler gets the same without the body (see body_stream.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "gateway/http/http_headers.h"
#include "gateway/http/peer_certificate.h"

namespace xoev::http {

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent
  std::string target;  // as sent, e.g. "/v1/messages/abc?x=1"
  std::string path;    // target without query and fragment, e.g. "/v1/messages/abc"
  HeaderList headers;
  std::string body;
  std::string remote_address;  // peer IP, e.g. "127.0.0.1"
  bool tls = false;            // arrived over TLS
  std::optional<PeerCertificate> client_certificate;  // sent in the TLS handshake, if any

  // First header called `name`, compared case-insensitively; empty if absent.
  std::string header(std::string_view name) const;
};

// "/a/b?x=1#f" → "/a/b".
std::string path_of(std::string_view target);

}  // namespace xoev::http
