#include "adapters/inbound/xoev_common/xoev_head_reader.h"

namespace xoev::xoev_head {
namespace {

// A code element may hold its value directly or in a <code> child (XÖV code types).
std::string code_value(const xmlNode* n) {
  if (!n) return {};
  if (const xmlNode* code = first_child(n, "code")) return text_of(code);
  return text_of(n);
}

Problem missing(const XmlDocument& doc, const xmlNode* at, const std::string& what) {
  const xmlNode* where = at ? at : doc.root();
  return Problem::make(ProblemKind::missing_routing_header, what + " (in " + element_path(where) + ")")
      .at({"", line_of(where), 0});
}

}  // namespace

std::string party_id(const xmlNode* party) {
  if (!party) return {};
  if (const xmlNode* bk = first_child(party, "behoerdenkennung")) {
    const std::string praefix = code_value(first_child(bk, "praefix"));
    const std::string kennung = code_value(first_child(bk, "kennung"));
    if (praefix.empty()) return kennung;
    return kennung.empty() ? std::string{} : praefix + ":" + kennung;
  }
  return text_of(first_child(party, "kennung"));
}

Result<RoutingHeader> read_head(const XmlDocument& doc, const xmlNode* head, std::string adapter) {
  RoutingHeader h;
  h.adapter = std::move(adapter);
  const xmlNode* root = doc.root();
  h.standard = attribute(root, "standard");
  h.version = attribute(root, "version");

  const xmlNode* ident = first_child(head, "identifikation.nachricht");
  if (!ident) return missing(doc, head, "the head has no identifikation.nachricht");
  h.message_id = text_of(first_child(ident, "nachrichtenUUID"));
  if (h.message_id.empty()) return missing(doc, ident, "identifikation.nachricht has no nachrichtenUUID");
  const xmlNode* type = first_child(ident, "nachrichtentyp");
  h.message_type.list_uri = attribute(type, "listURI");
  h.message_type.code = code_value(type);
  // <name> is free text the sender writes: a label for humans, never routed on.
  h.message_type.label = text_of(first_child(type, "name"));
  if (h.message_type.code.empty()) return missing(doc, type ? type : ident, "the head names no nachrichtentyp code");
  h.created_at = text_of(first_child(ident, "erstellungszeitpunkt"));

  const xmlNode* leser = first_child(head, "leser");
  h.reader = party_id(leser);
  if (h.reader.empty()) return missing(doc, leser ? leser : head, "the head names no reader (leser kennung)");
  h.author = party_id(first_child(head, "autor"));
  h.service = text_of(first_child(head, "dvdvDienstkennung"));
  return h;
}

}  // namespace xoev::xoev_head
