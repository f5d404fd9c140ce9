#include "gateway/core/text.h"
#include "gateway/core/xml_document.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlIO.h>

#include <algorithm>
#include <mutex>

namespace xoev {
namespace {

// SAX hook: a DOCTYPE appears. Stop right here; XÖV messages never carry one.
void refuse_doctype(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  ctxt->_private = reinterpret_cast<void*>(1);
  xmlStopParser(ctxt);
}

// Offset of the first start tag with more than `limit` attributes, or npos. In a
// well-formed start tag every '=' outside quotes belongs to one attribute (or xmlns
// declaration); comments, CDATA, PIs and declarations are skipped whole. For input that
// is not well-formed the count may be off, but libxml2 refuses such input anyway.
size_t find_element_with_too_many_attributes(std::string_view bytes, size_t limit) {
  const auto skip_past = [&](size_t from, std::string_view end) {
    const size_t at = bytes.find(end, from);
    return at == std::string_view::npos ? bytes.size() : at + end.size();
  };
  size_t i = 0;
  while ((i = bytes.find('<', i)) != std::string_view::npos) {
    const std::string_view rest = bytes.substr(i);
    if (rest.starts_with("<!--")) {
      i = skip_past(i + 4, "-->");
    } else if (rest.starts_with("<![CDATA[")) {
      i = skip_past(i + 9, "]]>");
    } else if (rest.starts_with("<?")) {
      i = skip_past(i + 2, "?>");
    } else if (rest.starts_with("<!") || rest.starts_with("</")) {
      i = skip_past(i + 2, ">");
    } else {
      const size_t tag = i;
      size_t attributes = 0;
      char quote = 0;
      for (++i; i < bytes.size(); ++i) {
        const char c = bytes[i];
        if (quote != 0) {
          if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
          quote = c;
        } else if (c == '=') {
          if (++attributes > limit) return tag;
        } else if (c == '>' || c == '<') {
          break;
        }
      }
    }
  }
  return std::string_view::npos;
}

Location location_of(std::string_view bytes, size_t offset) {
  const std::string_view before = bytes.substr(0, offset);
  const auto line = 1 + std::count(before.begin(), before.end(), '\n');
  const size_t line_start = before.rfind('\n');
  const size_t column = line_start == std::string_view::npos ? offset + 1 : offset - line_start;
  return {"", static_cast<int>(line), static_cast<int>(column)};
}

struct CtxtFree {
  void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};

}  // namespace

namespace {
thread_local EntityLoadFn t_entity_load = nullptr;
thread_local void* t_entity_user = nullptr;

// The one process-wide loader: scoped rules if this thread set any, else libxml2's
// own loader minus the network (http/ftp refused even if a caller forgot NONET).
xmlParserInputPtr guarded_entity_loader(const char* url, const char* id, xmlParserCtxtPtr ctxt) {
  if (t_entity_load != nullptr) return t_entity_load(url, id, ctxt, t_entity_user);
  return xmlNoNetExternalEntityLoader(url, id, ctxt);
}
}  // namespace

ScopedEntityLoader::ScopedEntityLoader(EntityLoadFn load, void* user)
    : previous_load_(t_entity_load), previous_user_(t_entity_user) {
  xml_global_init();
  t_entity_load = load;
  t_entity_user = user;
}

ScopedEntityLoader::~ScopedEntityLoader() {
  t_entity_load = previous_load_;
  t_entity_user = previous_user_;
}

void xml_global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    xmlSetExternalEntityLoader(guarded_entity_loader);
  });
}

Result<XmlDocument> XmlDocument::parse(std::string_view bytes, size_t max_bytes) {
  xml_global_init();
  if (bytes.empty()) return Problem::make(ProblemKind::malformed_xml, "the body is empty").at({"", 1, 1});
  if (bytes.size() > max_bytes)
    return Problem::make(ProblemKind::payload_too_large,
                         "document has " + std::to_string(bytes.size()) + " bytes, limit is " + std::to_string(max_bytes));
  if (bytes.size() > static_cast<size_t>(INT32_MAX))
    return Problem::make(ProblemKind::payload_too_large, "document exceeds 2 GiB");

  if (const size_t tag = find_element_with_too_many_attributes(bytes, kMaxXmlAttributesPerElement);
      tag != std::string_view::npos) {
    const Location where = location_of(bytes, tag);
    const std::string msg = "an element has more than " + std::to_string(kMaxXmlAttributesPerElement) + " attributes";
    Problem p = Problem::make(ProblemKind::malformed_xml, msg).at(where);
    p.errors.push_back({where.line, where.column, "", msg});
    return p;
  }

  std::unique_ptr<xmlParserCtxt, CtxtFree> ctxt(xmlNewParserCtxt());
  if (!ctxt) return Problem::make(ProblemKind::internal, "cannot allocate XML parser");
  ctxt->sax->internalSubset = refuse_doctype;
  ctxt->_private = nullptr;

  // No NOENT (never substitute entities), no DTDLOAD/DTDATTR, no XINCLUDE, no HUGE.
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES;
  xmlDoc* raw = xmlCtxtReadMemory(ctxt.get(), bytes.data(), static_cast<int>(bytes.size()), "message.xml", nullptr,
                                  options);
  std::unique_ptr<xmlDoc, XmlDocFree> doc(raw);

  if (ctxt->_private != nullptr) {
    const int line = ctxt->input ? ctxt->input->line : 1;
    const int col = ctxt->input ? ctxt->input->col : 1;
    Problem p = Problem::make(ProblemKind::malformed_xml,
                              "a DOCTYPE/DTD is not allowed in messages (external entities and entity expansion are refused)")
                    .at({"", line, col});
    p.errors.push_back({line, col, "", "DOCTYPE not allowed"});
    return p;
  }
  if (!doc || !ctxt->wellFormed) {
    const xmlError* err = xmlCtxtGetLastError(ctxt.get());
    int line = err ? err->line : 0;
    int col = err ? err->int2 : 0;
    std::string msg = err && err->message ? trim(err->message) : "not well-formed";
    Problem p = Problem::make(ProblemKind::malformed_xml, msg).at({"", line, col});
    p.errors.push_back({line, col, "", msg});
    return p;
  }
  if (xmlDocGetRootElement(doc.get()) == nullptr)
    return Problem::make(ProblemKind::malformed_xml, "document has no root element").at({"", 1, 1});
  return XmlDocument(doc.release());
}

const xmlNode* XmlDocument::root() const { return xmlDocGetRootElement(doc_.get()); }

std::string XmlDocument::root_namespace() const { return std::string(namespace_of(root())); }
std::string XmlDocument::root_name() const { return std::string(local_name(root())); }

std::string_view local_name(const xmlNode* n) {
  return n && n->name ? std::string_view(reinterpret_cast<const char*>(n->name)) : std::string_view{};
}

std::string_view namespace_of(const xmlNode* n) {
  return n && n->ns && n->ns->href ? std::string_view(reinterpret_cast<const char*>(n->ns->href)) : std::string_view{};
}

const xmlNode* first_child(const xmlNode* parent, std::string_view local) {
  if (!parent) return nullptr;
  for (const xmlNode* c = parent->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && local_name(c) == local) return c;
  return nullptr;
}

std::vector<const xmlNode*> child_elements(const xmlNode* parent) {
  std::vector<const xmlNode*> out;
  if (!parent) return out;
  for (const xmlNode* c = parent->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE) out.push_back(c);
  return out;
}

const xmlNode* find_path(const xmlNode* from, std::string_view slash_path) {
  const xmlNode* cur = from;
  while (cur && !slash_path.empty()) {
    const auto slash = slash_path.find('/');
    cur = first_child(cur, slash_path.substr(0, slash));
    slash_path = slash == std::string_view::npos ? std::string_view{} : slash_path.substr(slash + 1);
  }
  return cur;
}

std::string text_of(const xmlNode* n) {
  if (!n) return {};
  xmlChar* content = xmlNodeGetContent(n);
  if (!content) return {};
  std::string s(reinterpret_cast<const char*>(content));
  xmlFree(content);
  return trim(std::move(s));
}

std::string attribute(const xmlNode* n, const char* name) {
  if (!n) return {};
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  if (!v) return {};
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

int line_of(const xmlNode* n) { return n ? static_cast<int>(xmlGetLineNo(n)) : 0; }

std::string element_path(const xmlNode* n) {
  std::string path;
  for (; n && n->type == XML_ELEMENT_NODE; n = n->parent) {
    std::string step = "/";
    if (n->ns && n->ns->prefix) step += std::string(reinterpret_cast<const char*>(n->ns->prefix)) + ":";
    step += std::string(local_name(n));
    path.insert(0, step);
  }
  return path;
}

}  // namespace xoev
