// The one message type that flows from ingest to delivery: the exact bytes, the
// checked routing facts and the ids and times the gateway adds. Ingest fills it from
// the validated document; the deliverer fills it from the verified, decrypted record
// (the signed headers), so an outbound adapter sees only values that were checked.
#pragma once

#include <cstdint>
#include <filesystem>
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
  // A large (chunked) message: its exact bytes are in this file, reassembled and checked
  // against the signed size and SHA-256 by the deliverer; `body` stays empty. Adapters
  // that do not stream files (OutboundAdapter::streams_files) get it read into `body`.
  std::filesystem::path body_file;
  uint64_t body_size = 0;
  int attempt = 1;            // delivery attempt, 1 for the first try
};

}  // namespace xoev
