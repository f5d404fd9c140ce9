// One decision worth proving later: who (sender), what (message id, payload hash),
// where to (destination), what came of it (event, HTTP status, detail). Never the payload.
#pragma once

#include <string>

namespace xoev::audit {

// Every member has an initializer: lines are built with designated initializers that
// name only what they know (no -Wmissing-field-initializers).
struct AuditEvent {
  std::string event{};           // accepted, refused, delivered, rejected, dead-lettered, replayed,
                                 // config-reloaded, admin-action, token-issued
  std::string sender{};          // senders[].id, "anonymous", or empty when unknown
  std::string message_id{};
  std::string payload_sha256{};  // hex SHA-256 of the submitted bytes (see payload_hashed)
  std::string destination{};
  int status = 0;                // HTTP status of the answer, 0 when none
  std::string result{};          // e.g. "ok", a problem slug ("forbidden"), "rate-limited"
  std::string detail{};          // short, no payload content
  std::string remote_address{};
  // What payload_sha256 was taken of when it is not the submitted bytes: "plaintext" (a
  // deliverer's decrypted bytes, as delivered) or "record-value" (the sealed record, when
  // it could not be decrypted or verified). Empty on the accepting side.
  std::string payload_hashed{};
};

}  // namespace xoev::audit
