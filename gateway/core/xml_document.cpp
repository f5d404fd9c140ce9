#include "gateway/core/text.h"
#include "gateway/core/xml_document.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlIO.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string_view>

namespace xoev {
namespace {

// SAX hook: a DOCTYPE appears. Stop right here; XÖV messages never carry one.
void refuse_doctype(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  ctxt->_private = reinterpret_cast<void*>(1);
  xmlStopParser(ctxt);
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

namespace {
std::atomic<bool> g_xml_initialised{false};
}

void xml_global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    xmlSetExternalEntityLoader(guarded_entity_loader);
    g_xml_initialised = true;
  });
}

bool xml_global_init_done() { return g_xml_initialised; }

Result<XmlDocument> XmlDocument::parse(std::string_view bytes, size_t max_bytes) {
  xml_global_init();
  if (bytes.empty()) return Problem::make(ProblemKind::malformed_xml, "the body is empty").at({"", 1, 1});
  if (bytes.size() > max_bytes)
    return Problem::make(ProblemKind::payload_too_large,
                         "document has " + std::to_string(bytes.size()) + " bytes, limit is " + std::to_string(max_bytes));
  if (bytes.size() > static_cast<size_t>(INT32_MAX))
    return Problem::make(ProblemKind::payload_too_large, "document exceeds 2 GiB");

  if (auto where = AttributeCountScanner().scan(bytes)) return too_many_attributes_problem(*where);

  std::unique_ptr<xmlParserCtxt, CtxtFree> ctxt(xmlNewParserCtxt());
  if (!ctxt) return Problem::make(ProblemKind::internal, "cannot allocate XML parser");
  ctxt->sax->internalSubset = refuse_doctype;
  ctxt->_private = nullptr;

  // No NOENT (never substitute entities), no DTDLOAD/DTDATTR, no XINCLUDE, no HUGE.
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES;
  xmlDoc* raw = xmlCtxtReadMemory(ctxt.get(), bytes.data(), static_cast<int>(bytes.size()), "message.xml", nullptr,
                                  options);
  std::unique_ptr<xmlDoc, XmlDocFree> doc(raw);

  if (ctxt->_private != nullptr)
    return doctype_refused_problem(ctxt->input ? ctxt->input->line : 1, ctxt->input ? ctxt->input->col : 1);
  if (!doc || !ctxt->wellFormed) return parser_error_problem(ctxt.get());
  if (xmlDocGetRootElement(doc.get()) == nullptr)
    return Problem::make(ProblemKind::malformed_xml, "document has no root element").at({"", 1, 1});
  return XmlDocument(doc.release());
}

Result<XmlDocument> XmlDocument::adopt(std::unique_ptr<xmlDoc, XmlDocFree> doc) {
  if (!doc || xmlDocGetRootElement(doc.get()) == nullptr)
    return Problem::make(ProblemKind::malformed_xml, "document has no root element").at({"", 1, 1});
  return XmlDocument(doc.release());
}

Problem too_many_attributes_problem(const Location& where) {
  const std::string msg = "an element has more than " + std::to_string(kMaxXmlAttributesPerElement) + " attributes";
  Problem p = Problem::make(ProblemKind::malformed_xml, msg).at(where);
  p.errors.push_back({where.line, where.column, "", msg});
  return p;
}

Problem doctype_refused_problem(int line, int column) {
  Problem p = Problem::make(ProblemKind::malformed_xml,
                            "a DOCTYPE/DTD is not allowed in messages (external entities and entity expansion are refused)")
                  .at({"", line, column});
  p.errors.push_back({line, column, "", "DOCTYPE not allowed"});
  return p;
}

Problem parser_error_problem(xmlParserCtxt* ctxt) {
  const xmlError* err = xmlCtxtGetLastError(ctxt);
  int line = err ? err->line : 0;
  int col = err ? err->int2 : 0;
  std::string msg = err && err->message ? trim(err->message) : "not well-formed";
  Problem p = Problem::make(ProblemKind::malformed_xml, msg).at({"", line, col});
  p.errors.push_back({line, col, "", msg});
  return p;
}

bool AttributeCountScanner::in_tag(char c, int line, int column) {
  if (quote_ != 0) {
    if (c == quote_) quote_ = 0;
  } else if (c == '"' || c == '\'') {
    quote_ = c;
  } else if (c == '=') {
    return ++attributes_ > limit_;
  } else if (c == '>') {
    state_ = State::text;
  } else if (c == '<') {  // not well-formed; the next tag starts here
    state_ = State::open;
    tag_ = {"", line, column};
  }
  return false;
}

std::optional<Location> AttributeCountScanner::scan(std::string_view piece) {
  static constexpr std::string_view kComment = "<!--";
  static constexpr std::string_view kCdata = "<![CDATA[";
  // Ends a run of `mark` mark characters followed by '>' ("-->", "]]>", "?>").
  const auto terminator = [this](char c, char mark, std::size_t marks) {
    if (c == mark) {
      matched_ = std::min(matched_ + 1, marks);
    } else {
      if (c == '>' && matched_ == marks) state_ = State::text;
      matched_ = 0;
    }
  };
  // Skips to the next `stop` byte (or the end) in one go, keeping line and column: the
  // bulk of a large body (text, base64 content, comments) never goes byte by byte.
  const auto skip_to = [&](std::size_t& i, char stop) {
    const std::size_t end = std::min(piece.find(stop, i), piece.size());
    const std::string_view run = piece.substr(i, end - i);
    const std::size_t last_newline = run.rfind('\n');
    if (last_newline == std::string_view::npos) {
      column_ += static_cast<int>(run.size());
    } else {
      line_ += static_cast<int>(std::count(run.begin(), run.end(), '\n'));
      column_ = static_cast<int>(run.size() - last_newline);
    }
    i = end;
  };
  for (std::size_t i = 0; i < piece.size(); ++i) {
    switch (state_) {
      case State::text:
        skip_to(i, '<');
        break;
      case State::declaration:
        skip_to(i, '>');
        break;
      case State::comment:
      case State::cdata:
      case State::pi:
        if (matched_ == 0) skip_to(i, state_ == State::comment ? '-' : state_ == State::cdata ? ']' : '?');
        break;
      default:
        break;
    }
    if (i == piece.size()) break;
    const char c = piece[i];
    const int line = line_, column = column_;
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    switch (state_) {
      case State::text:
        if (c == '<') {
          state_ = State::open;
          tag_ = {"", line, column};
        }
        break;
      case State::open:  // right after '<'
        if (c == '!') {
          state_ = State::bang;
          pattern_ = {};
          matched_ = 2;
        } else if (c == '?') {
          state_ = State::pi;
          matched_ = 0;
        } else if (c == '/') {
          state_ = State::declaration;
        } else {
          state_ = State::tag;
          attributes_ = 0;
          quote_ = 0;
          if (in_tag(c, line, column)) return tag_;
        }
        break;
      case State::bang:  // "<!" and maybe more of "<!--" or "<![CDATA["
        if (matched_ == 2) pattern_ = c == '-' ? kComment : c == '[' ? kCdata : std::string_view{};
        if (!pattern_.empty() && c == pattern_[matched_]) {
          if (++matched_ == pattern_.size()) {
            state_ = pattern_ == kComment ? State::comment : State::cdata;
            matched_ = 0;
          }
        } else {
          state_ = c == '>' ? State::text : State::declaration;
        }
        break;
      case State::comment:
        terminator(c, '-', 2);
        break;
      case State::cdata:
        terminator(c, ']', 2);
        break;
      case State::pi:
        terminator(c, '?', 1);
        break;
      case State::declaration:
        if (c == '>') state_ = State::text;
        break;
      case State::tag:
        if (in_tag(c, line, column)) return tag_;
        break;
    }
  }
  return std::nullopt;
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
