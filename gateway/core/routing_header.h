// What an inbound adapter extracts from a message: everything the router and the
// Kafka envelope need, and nothing about how it was found.
#pragma once

#include <string>

namespace xoev {

struct MessageType {
  std::string list_uri;  // codelist URI, e.g. urn:xoev-de:xwasser:codeliste:nachrichtentyp
  std::string code;      // e.g. 2010
  // A name the adapter derives from validated structure (XRechnung: "Invoice" from
  // the root element), else empty. Routes may match it.
  std::string name;
  // The sender's free text (an XÖV head's <name>): shown by `route --explain`, never
  // routed on or forwarded, since a sender can write anything there.
  std::string label;
  // What routes and headers show: "name" if present, else "code".
  const std::string& display() const { return name.empty() ? code : name; }
};

struct RoutingHeader {
  // nachrichtenUUID. Adapters of standards without a message UUID (XRechnung) leave
  // it empty; the pipeline then derives a stable UUID from the document's SHA-256,
  // so resubmitting the same document is idempotent and different ones never collide.
  std::string message_id;
  std::string reference;    // business reference for humans (e.g. invoice number), may be empty
  MessageType message_type;
  std::string reader;       // praefix:kennung (leitweg:<id> for XRechnung)
  std::string author;       // praefix:kennung, may be empty
  std::string created_at;   // erstellungszeitpunkt as written, may be empty
  std::string standard;     // e.g. XBeteiligung: the catalog entry that validated the document
  std::string version;      // e.g. 1.2, likewise
  std::string service;      // DVDV service id / Leika, may be empty
  std::string adapter;      // which inbound adapter extracted this, for route --explain
};

}  // namespace xoev
