// The one message type that flows from ingest to delivery: the exact bytes, the
// checked routing facts and the ids and times the gateway adds. Ingest fills it from
// the validated document; the deliverer fills it from the verified, decrypted record
// (the signed headers), so an outbound adapter sees only values that were checked.
#pragma once

#include <string>

namespace xoev {

struct Message {
  std::string message_id;
  std::string destination;
  std::string message_type;   // the validated code (display form)
  std::string standard;
  std::string sender;         // autor: praefix:kennung
  std::string recipient;      // leser: praefix:kennung
  std::string accepted_at;    // RFC 3339, UTC
  std::string route;          // name of the route that chose the destination
  std::string traceparent;    // W3C trace context
  std::string body;           // the exact submitted bytes
  int attempt = 1;            // delivery attempt, 1 for the first try
};

}  // namespace xoev
