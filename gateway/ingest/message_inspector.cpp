#include "gateway/ingest/message_inspector.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "gateway/core/routing_fields.h"

namespace xoev {

MessageInspector::MessageInspector(std::vector<InboundAdapterPtr> adapters, std::shared_ptr<const SchemaCatalog> catalog,
                                   size_t max_message_bytes)
    : adapters_(std::move(adapters)), catalog_(std::move(catalog)), max_message_bytes_(max_message_bytes) {}

std::string derived_message_id_from_sha256(const unsigned char (&sha256)[32]) {
  unsigned char digest[32];
  std::copy(std::begin(sha256), std::end(sha256), std::begin(digest));
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0F) | 0x80);  // version 8
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3F) | 0x80);  // RFC 9562 variant
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", digest[0],
                digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7], digest[8], digest[9],
                digest[10], digest[11], digest[12], digest[13], digest[14], digest[15]);
  return out;
}

std::string derived_message_id(std::string_view bytes) {
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  return derived_message_id_from_sha256(digest);
}

Inspection MessageInspector::inspect(std::string_view bytes) const {
  Inspection out;
  const auto parse_start = std::chrono::steady_clock::now();
  auto doc = XmlDocument::parse(bytes, max_message_bytes_);
  out.parse_time = std::chrono::steady_clock::now() - parse_start;
  if (!doc) {
    out.problem = doc.problem();
    return out;
  }
  if (!inspect_head(*doc, [&] { return derived_message_id(bytes); }, out)) return out;
  if (!catalog_) return out;
  const auto validate_start = std::chrono::steady_clock::now();
  auto valid = catalog_->validate(*out.schema, *doc);
  out.validate_time = std::chrono::steady_clock::now() - validate_start;
  if (!valid) {
    out.problem = valid.problem();
    return out;
  }
  out.validated = true;
  return out;
}

bool MessageInspector::inspect_head(const XmlDocument& doc, const std::function<std::string()>& derive_id,
                                    Inspection& out) const {
  const std::string ns = doc.root_namespace();
  out.root = (ns.empty() ? "" : "{" + ns + "}") + doc.root_name();
  if (catalog_) out.schema = catalog_->find(doc);

  const InboundAdapter* adapter = nullptr;
  for (const auto& a : adapters_)
    if (a->detect(doc)) {
      adapter = a.get();
      break;
    }
  if (!adapter) {
    if (out.schema)
      out.problem = Problem::make(ProblemKind::missing_routing_header,
                                  "this is a " + out.schema->standard + " message (" + out.root +
                                      ") but it has no routing header (nachrichtenkopf) that an inbound adapter understands");
    else
      out.problem = Problem::make(ProblemKind::unknown_standard,
                                  "no standard is configured for root element " + out.root +
                                      " and it carries no XÖV message head");
    return false;
  }
  out.adapter = std::string(adapter->name());

  auto header = adapter->extract(doc);
  if (!header) {
    out.problem = header.problem();
    return false;
  }
  out.header = std::move(header).value();
  if (out.header.message_id.empty()) out.header.message_id = derive_id();
  // Route on what was validated, not on what the sender wrote: the standard and its
  // version are those of the catalog entry whose schema the document is checked
  // against (the head readers keep a free-text type name as a label only).
  if (out.schema) {
    out.header.standard = out.schema->standard;
    if (!out.schema->version.empty()) out.header.version = out.schema->version;
  }
  if (out.header.standard.empty()) out.header.standard = out.adapter;
  if (auto refused = check_routing_fields(out.header)) {
    out.problem = std::move(*refused);
    return false;
  }
  if (catalog_ && !out.schema) {
    out.problem = Problem::make(ProblemKind::unknown_standard,
                                "no schema in the catalog for root element " + out.root +
                                    (out.header.version.empty() ? "" : " version " + out.header.version) +
                                    "; add the standard to schemas/catalog.yaml or to standards: in the config");
    return false;
  }
  return true;
}

Result<Inspection> MessageInspector::accept(std::string_view bytes) const {
  Inspection i = inspect(bytes);
  if (i.problem) return std::move(*i.problem);
  return i;
}

}  // namespace xoev
