// The read-only front half of the accept pipeline: bytes → parsed → standard
// detected → routing header extracted → schema-validated. Shared by POST
// /v1/messages and `route --explain`, so what the explanation shows is what the
// gateway does.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/inbound/inbound_adapter.h"
#include "gateway/core/result.h"
#include "gateway/schema/schema_catalog.h"

namespace xoev {

struct Inspection {
  std::string root;                        // {namespace}localname of the root element
  const SchemaEntry* schema = nullptr;     // catalog entry, nullptr if none
  std::string adapter;                     // inbound adapter that found the header
  RoutingHeader header;
  bool validated = false;                  // false only when no schema catalog is configured
  std::optional<Problem> problem;          // the first failure; stages after it did not run
  // How long parsing and schema validation took (for the stage histograms); unset
  // when the stage did not run.
  std::optional<std::chrono::steady_clock::duration> parse_time, validate_time;
};

class MessageInspector {
 public:
  // adapters: tried in order (configured standards first, then the built-ins).
  // catalog may be null: then nothing is validated (serve warns loudly at start).
  MessageInspector(std::vector<InboundAdapterPtr> adapters, std::shared_ptr<const SchemaCatalog> catalog,
                   size_t max_message_bytes);

  // Runs every stage it can; Inspection::problem tells where it stopped.
  Inspection inspect(std::string_view bytes) const;
  // The accept path: the header, or the Problem to answer with.
  Result<Inspection> accept(std::string_view bytes) const;

  const SchemaCatalog* catalog() const { return catalog_.get(); }

 private:
  std::vector<InboundAdapterPtr> adapters_;
  std::shared_ptr<const SchemaCatalog> catalog_;
  size_t max_message_bytes_;
};

// Standards without a message UUID (XRechnung) get one derived from the document's
// SHA-256 (RFC 9562 UUIDv8), so the same document resent is recognised and answered
// 200. Every id must pass check_routing_fields (gateway/core/routing_fields.h).
std::string derived_message_id(std::string_view bytes);

}  // namespace xoev
