// The read-only front half of the accept pipeline: bytes → parsed → standard
// detected → routing header extracted → schema-validated. Shared by POST
// /v1/messages and `route --explain`, so what the explanation shows is what the
// gateway does.
#pragma once

#include <chrono>
#include <functional>
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
  const std::vector<InboundAdapterPtr>& adapters() const { return adapters_; }
  size_t max_message_bytes() const { return max_message_bytes_; }

  // The stages between parsing and validation, on a parsed document (the whole one,
  // or the streaming inspector's skeleton): root, schema entry, adapter, header with
  // the catalog's standard, field checks, and that a schema exists when a catalog is
  // configured. `derive_id` gives the message id when the head has none (it may return
  // "" while the bytes are not all known). False, with out.problem, when one refused.
  bool inspect_head(const XmlDocument& doc, const std::function<std::string()>& derive_id, Inspection& out) const;

 private:
  std::vector<InboundAdapterPtr> adapters_;
  std::shared_ptr<const SchemaCatalog> catalog_;
  size_t max_message_bytes_;
};

// Standards without a message UUID (XRechnung) get one derived from the document's
// SHA-256 (RFC 9562 UUIDv8), so the same document resent is recognised and answered
// 200. Every id must pass check_routing_fields (gateway/core/routing_fields.h).
std::string derived_message_id(std::string_view bytes);
// The same from the SHA-256 of the bytes (for bytes that arrive in pieces).
std::string derived_message_id_from_sha256(const unsigned char (&digest)[32]);

}  // namespace xoev
