#include "gateway/core/text.h"
#include "adapters/inbound/configured/configured_adapter.h"

#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "gateway/core/glob.h"

namespace xoev {
namespace {

struct CompExprFree {
  void operator()(xmlXPathCompExpr* e) const { xmlXPathFreeCompExpr(e); }
};
struct XPathContextFree {
  void operator()(xmlXPathContext* c) const { xmlXPathFreeContext(c); }
};
struct XPathObjectFree {
  void operator()(xmlXPathObject* o) const { xmlXPathFreeObject(o); }
};
using CompiledXPath = std::shared_ptr<xmlXPathCompExpr>;

// libxml2 reports XPath errors through the thread's structured handler; keep the
// first message and keep them off stderr.
struct XPathErrorCapture {
  std::string message;
  xmlStructuredErrorFunc saved_fn;
  void* saved_ctx;
  XPathErrorCapture() : saved_fn(xmlStructuredError), saved_ctx(xmlStructuredErrorContext) {
    xmlSetStructuredErrorFunc(this, [](void* self, xmlErrorPtr err) {
      auto* capture = static_cast<XPathErrorCapture*>(self);
      if (capture->message.empty() && err != nullptr && err->message != nullptr) capture->message = trim(err->message);
    });
  }
  ~XPathErrorCapture() { xmlSetStructuredErrorFunc(saved_ctx, saved_fn); }
};

struct Field {
  const char* name;            // the key under `fields:` in the config
  const std::string* xpath;
  bool required;
};

std::vector<Field> fields_of(const StandardSection& s) {
  return {{"id", &s.id_xpath, false},
          {"type", &s.type_xpath, true},
          {"reader", &s.reader_xpath, true},
          {"author", &s.author_xpath, false}};
}

Problem section_problem(const StandardSection& s, const std::string& what) {
  return Problem::make(ProblemKind::config_invalid, "standard '" + s.name + "': " + what).at(s.where);
}

std::unique_ptr<xmlXPathContext, XPathContextFree> new_context(xmlDoc* doc, const StandardSection& s) {
  std::unique_ptr<xmlXPathContext, XPathContextFree> ctx(xmlXPathNewContext(doc));
  if (!ctx) return ctx;
  for (const auto& [prefix, uri] : s.namespaces)
    xmlXPathRegisterNs(ctx.get(), reinterpret_cast<const xmlChar*>(prefix.c_str()),
                       reinterpret_cast<const xmlChar*>(uri.c_str()));
  return ctx;
}

// Compiles one XPath and proves it runs (undeclared prefixes only show on evaluation).
Result<CompiledXPath> compile_field(const StandardSection& s, const Field& f) {
  XPathErrorCapture capture;
  CompiledXPath expr(xmlXPathCompile(reinterpret_cast<const xmlChar*>(f.xpath->c_str())), CompExprFree{});
  if (!expr)
    return section_problem(s, std::string("fields.") + f.name + " '" + *f.xpath + "' is not a valid XPath 1.0 expression" +
                                  (capture.message.empty() ? "" : " (" + capture.message + ")"));
  std::unique_ptr<xmlDoc, XmlDocFree> probe(xmlNewDoc(reinterpret_cast<const xmlChar*>("1.0")));
  xmlDocSetRootElement(probe.get(), xmlNewNode(nullptr, reinterpret_cast<const xmlChar*>("probe")));
  auto ctx = new_context(probe.get(), s);
  if (!ctx) return section_problem(s, "cannot allocate an XPath context");
  ctx->node = xmlDocGetRootElement(probe.get());
  std::unique_ptr<xmlXPathObject, XPathObjectFree> result(xmlXPathCompiledEval(expr.get(), ctx.get()));
  if (!result) {
    std::string why = capture.message.empty() ? "it cannot be evaluated" : capture.message;
    if (why.find("Undefined namespace prefix") != std::string::npos)
      why += "; declare every prefix it uses under 'namespaces:'";
    return section_problem(s, std::string("fields.") + f.name + " '" + *f.xpath + "': " + why);
  }
  return expr;
}

class ConfiguredAdapter final : public InboundAdapter {
 public:
  ConfiguredAdapter(StandardSection s, std::map<std::string, CompiledXPath> xpaths)
      : section_(std::move(s)), name_("configured:" + section_.name), xpaths_(std::move(xpaths)) {}

  std::string_view name() const override { return name_; }

  bool detect(const XmlDocument& doc) const override {
    if (doc.root_namespace() != section_.root_namespace) return false;
    if (!glob_match(section_.root_element.empty() ? "*" : section_.root_element, doc.root_name())) return false;
    return section_.version.empty() || attribute(doc.root(), "version") == section_.version;
  }

  Result<RoutingHeader> extract(const XmlDocument& doc) const override {
    auto ctx = new_context(doc.doc(), section_);
    if (!ctx) return Problem::make(ProblemKind::internal, "cannot allocate an XPath context");
    RoutingHeader h;
    h.standard = section_.name;
    h.version = section_.version.empty() ? attribute(doc.root(), "version") : section_.version;
    h.adapter = name_;
    for (const Field& f : fields_of(section_)) {
      const auto it = xpaths_.find(f.name);
      if (it == xpaths_.end()) continue;  // optional and not configured
      int line = 0;
      auto value = evaluate(*ctx, *it->second, line);
      if (value.empty()) {
        // A configured id, type or reader must be there; an author may be absent.
        if (std::string_view(f.name) == "author") continue;
        return Problem::make(ProblemKind::missing_routing_header,
                             std::string("the ") + section_.name + " message has no " + field_label(f.name) +
                                 ": the XPath " + *f.xpath + " (fields." + f.name + ") selects nothing or an empty value")
            .at({"", line_of(doc.root()), 0});
      }
      if (std::string_view(f.name) == "id") h.message_id = value;
      else if (std::string_view(f.name) == "type") h.message_type.code = value;
      else if (std::string_view(f.name) == "reader") h.reader = value;
      else h.author = value;
    }
    return h;
  }

 private:
  static const char* field_label(std::string_view field) {
    if (field == "type") return "message type";
    if (field == "reader") return "reader (recipient)";
    if (field == "author") return "author (sender)";
    return "message id";
  }

  // The string value of the expression (first node for node-sets), trimmed.
  static std::string evaluate(xmlXPathContext& ctx, xmlXPathCompExpr& expr, int& line) {
    ctx.node = reinterpret_cast<xmlNodePtr>(ctx.doc);  // relative paths start at the document
    std::unique_ptr<xmlXPathObject, XPathObjectFree> result(xmlXPathCompiledEval(&expr, &ctx));
    if (!result) return {};
    if (result->type == XPATH_NODESET) {
      if (result->nodesetval == nullptr || result->nodesetval->nodeNr == 0) return {};
      line = line_of(result->nodesetval->nodeTab[0]);
    }
    xmlChar* s = xmlXPathCastToString(result.get());
    if (s == nullptr) return {};
    std::string out(reinterpret_cast<const char*>(s));
    xmlFree(s);
    return trim(std::move(out));
  }

  StandardSection section_;
  std::string name_;
  std::map<std::string, CompiledXPath> xpaths_;
};

Result<std::map<std::string, CompiledXPath>> compile_section(const StandardSection& s) {
  if (s.name.empty()) return section_problem(s, "'name' is required");
  if (s.root_namespace.empty())
    return section_problem(s, "'namespace' is required: the namespace URI that identifies its messages");
  std::map<std::string, CompiledXPath> out;
  for (const Field& f : fields_of(s)) {
    if (trim(*f.xpath).empty()) {
      if (f.required) return section_problem(s, std::string("fields.") + f.name + " (an XPath expression) is required");
      continue;
    }
    auto compiled = compile_field(s, f);
    if (!compiled) return std::move(compiled).problem();
    out.emplace(f.name, std::move(compiled).value());
  }
  return out;
}

}  // namespace

Status check_standard_section(const StandardSection& section) {
  xml_global_init();
  auto compiled = compile_section(section);
  if (!compiled) return std::move(compiled).problem();
  return ok_status();
}

Result<InboundAdapterPtr> make_configured_adapter(const StandardSection& section) {
  xml_global_init();
  auto compiled = compile_section(section);
  if (!compiled) return std::move(compiled).problem();
  return InboundAdapterPtr(std::make_shared<const ConfiguredAdapter>(section, std::move(compiled).value()));
}

}  // namespace xoev
