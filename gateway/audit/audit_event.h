// One decision worth proving later: who (sender), what (message id, payload hash),
// where to (destination), what came of it (event, HTTP status, detail). Never the payload.
#pragma once

#include <string>

namespace xoev::audit {

struct AuditEvent {
  std::string event;           // accepted, refused, delivered, rejected, dead-lettered, replayed,
                               // config-reloaded, admin-action, token-issued
  std::string sender;          // senders[].id, "anonymous", or empty when unknown
  std::string message_id;
  std::string payload_sha256;  // hex SHA-256 of the submitted bytes
  std::string destination;
  int status = 0;              // HTTP status of the answer, 0 when none
  std::string result;          // e.g. "ok", a problem slug ("forbidden"), "rate-limited"
  std::string detail;          // short, no payload content
  std::string remote_address;
};

}  // namespace xoev::audit
