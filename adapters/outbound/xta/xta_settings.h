// The xta adapter's own configuration:
//   type: xta
//   directory: ../var/xta/standesamt      (required; the mailbox state)
//   listen: 127.0.0.1:8443                (HOST:PORT of the SOAP endpoint the Fachverfahren polls)
//   tls: {certificate, private_key, client_ca}   (required off loopback unless allow_plaintext)
//   readers:                              (mutual TLS: the only certificates that may read and close)
//     - client_certificate_sha256: "AB:CD:…"   or   client_certificate_subject: "CN=…"
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gateway/config/config.h"

namespace xoev {

struct XtaSettings final : AdapterSettings {
  std::filesystem::path directory;
  std::string listen = "127.0.0.1:8443";
  std::optional<TlsSection> tls;
  bool allow_plaintext = false;
  std::vector<std::string> reader_sha256;    // normalized fingerprints bound to this mailbox
  std::vector<std::string> reader_subjects;  // RFC 2253 subjects bound to this mailbox
  bool bound() const { return !reader_sha256.empty() || !reader_subjects.empty(); }
};

}  // namespace xoev
