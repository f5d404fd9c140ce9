// A parsed XML message, parsed safely: no DTD, no external entities, no network
// (XML_PARSE_NONET plus the process-wide entity loader below), bounded depth
// (libxml2's 256 levels without XML_PARSE_HUGE: 100000 levels fail fast, no stack
// overflow), bounded text/attribute size (10 MB each) and bounded size (the caller's
// limit). A document with a DOCTYPE is refused before any entity declaration is
// read, which stops XXE and entity-expansion ("billion laughs") attacks at the first
// line instead of relying on expansion limits (libxml2 2.9.14 has no XML_PARSE_NO_XXE).
// Attributes per element are capped (kMaxXmlAttributesPerElement) by a linear pre-scan:
// libxml2 checks duplicate attributes pairwise, so 200,000 attributes on one element
// would otherwise take over a minute.
#pragma once

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/result.h"

namespace xoev {

struct XmlDocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};

// Far above any XÖV head (attributes plus xmlns declarations of one element).
inline constexpr std::size_t kMaxXmlAttributesPerElement = 256;

class XmlDocument {
 public:
  // Parses bytes; on failure the Problem is malformed_xml with line/column (also for an
  // element with more than kMaxXmlAttributesPerElement attributes).
  static Result<XmlDocument> parse(std::string_view bytes, size_t max_bytes = 64u << 20);

  // Wraps a document that a parser with the same safety rules built (no DTD, no
  // external entities, no network, bounded depth): the streaming inspector's skeleton.
  // Problem malformed_xml when it has no root element.
  static Result<XmlDocument> adopt(std::unique_ptr<xmlDoc, XmlDocFree> doc);

  xmlDoc* doc() const { return doc_.get(); }
  const xmlNode* root() const;
  std::string root_namespace() const;  // empty for no namespace
  std::string root_name() const;       // local name

 private:
  explicit XmlDocument(xmlDoc* d) : doc_(d) {}
  std::unique_ptr<xmlDoc, XmlDocFree> doc_;
};

// Finds a start tag with more than `limit` attributes in bytes that arrive in pieces
// (any split). In a well-formed start tag every '=' outside quotes belongs to one
// attribute (or xmlns declaration); comments, CDATA, PIs and declarations are skipped
// whole. For input that is not well-formed the count may be off, but libxml2 refuses
// such input anyway. Linear, so it can run before libxml2 sees the bytes.
class AttributeCountScanner {
 public:
  explicit AttributeCountScanner(std::size_t limit = kMaxXmlAttributesPerElement) : limit_(limit) {}
  // The place (line, column of its '<') of the first offending tag, once it is seen.
  std::optional<Location> scan(std::string_view piece);

 private:
  enum class State { text, open, bang, comment, cdata, pi, declaration, tag };
  // One byte of a start tag; true when the tag has too many attributes.
  bool in_tag(char c, int line, int column);

  std::size_t limit_;
  std::string_view pattern_;  // which of "<!--" / "<![CDATA[" is being matched
  State state_ = State::text;
  std::size_t matched_ = 0;   // bytes of "<!--" / "<![CDATA[" seen after "<!", or of a terminator
  std::size_t attributes_ = 0;
  char quote_ = 0;
  int line_ = 1, column_ = 1;  // of the next byte
  Location tag_;
};

// The Problems of a refused parse, shared by the DOM and the streaming parser so both
// report the same way.
Problem too_many_attributes_problem(const Location& where);
Problem doctype_refused_problem(int line, int column);
// malformed_xml from the parser's last error (line, column, message).
Problem parser_error_problem(xmlParserCtxt* ctxt);

// Call once before any thread parses (libxml2 requires it). Also installs the
// process-wide external-entity loader: it never goes to the network, and a thread
// inside a ScopedEntityLoader (schema compilation) gets that scope's stricter rules.
void xml_global_init();
// Whether xml_global_init() ran in this process (for tests of code that must call it).
bool xml_global_init_done();

// While alive, libxml2 loads every external resource requested on this thread
// (xs:import, xs:include, external entities) through `load`, which may refuse
// (return nullptr). Scopes nest; the innermost wins.
using EntityLoadFn = xmlParserInputPtr (*)(const char* url, const char* public_id, xmlParserCtxtPtr ctxt,
                                           void* user);
class ScopedEntityLoader {
 public:
  ScopedEntityLoader(EntityLoadFn load, void* user);
  ~ScopedEntityLoader();
  ScopedEntityLoader(const ScopedEntityLoader&) = delete;
  ScopedEntityLoader& operator=(const ScopedEntityLoader&) = delete;

 private:
  EntityLoadFn previous_load_;
  void* previous_user_;
};

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
