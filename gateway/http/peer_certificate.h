// What the TLS handshake showed of the client's certificate: enough to map it to a
// sender (fingerprint, subject) and to say why it is not trusted.
#pragma once

#include <openssl/ssl.h>

#include <optional>
#include <string>

namespace xoev::http {

struct PeerCertificate {
  std::string sha256;        // fingerprint of the DER, upper-case hex with colons (openssl's form)
  std::string subject;       // RFC 2253, e.g. "CN=online-dienst-a,O=Land"
  bool chained = false;      // verified against the server's client_ca
  std::string verify_error;  // why not, when !chained
};

// Nullopt when the client sent no certificate.
std::optional<PeerCertificate> read_peer_certificate(SSL* ssl);

}  // namespace xoev::http
