// A parsed XML message, parsed safely: no DTD, no external entities, no network,
// bounded depth (libxml2's 256 levels without XML_PARSE_HUGE) and bounded size
// (the caller's limit). A document with a DOCTYPE is refused before any entity
// declaration is read, which stops XXE and entity-expansion ("billion laughs")
// attacks at the first line instead of relying on expansion limits.
#pragma once

#include <libxml/tree.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/result.h"

namespace xoev {

struct XmlDocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};

class XmlDocument {
 public:
  // Parses bytes; on failure the Problem is malformed_xml with line/column.
  static Result<XmlDocument> parse(std::string_view bytes, size_t max_bytes = 64u << 20);

  xmlDoc* doc() const { return doc_.get(); }
  const xmlNode* root() const;
  std::string root_namespace() const;  // empty for no namespace
  std::string root_name() const;       // local name

 private:
  explicit XmlDocument(xmlDoc* d) : doc_(d) {}
  std::unique_ptr<xmlDoc, XmlDocFree> doc_;
};

// Call once before any thread parses (libxml2 requires it).
void xml_global_init();

// Navigation helpers shared by the inbound adapters. Names are local names;
// namespace is ignored unless given, because XÖV heads come qualified and unqualified.
std::string_view local_name(const xmlNode* n);
std::string_view namespace_of(const xmlNode* n);
const xmlNode* first_child(const xmlNode* parent, std::string_view local);
std::vector<const xmlNode*> child_elements(const xmlNode* parent);
// Follows a path of local names ("identifikation.nachricht/nachrichtenUUID").
const xmlNode* find_path(const xmlNode* from, std::string_view slash_path);
std::string text_of(const xmlNode* n);  // concatenated text, whitespace-trimmed
std::string attribute(const xmlNode* n, const char* name);
int line_of(const xmlNode* n);
// /prefix:root/prefix:child path of a node, for error messages a clerk can follow.
std::string element_path(const xmlNode* n);

}  // namespace xoev
