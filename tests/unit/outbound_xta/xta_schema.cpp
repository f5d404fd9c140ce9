#include "xta_schema.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlschemas.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "gateway/core/xml_document.h"

namespace xoev::xta::test {
namespace {

const xmlChar* X(const char* s) { return reinterpret_cast<const xmlChar*>(s); }

// The schemas name xml.xsd by its W3C URL; serve the local copy, refuse any other network load.
xmlParserInputPtr local_only(const char* url, const char* id, xmlParserCtxtPtr ctxt, void*) {
  std::string u = url ? url : "";
  if (u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0) {
    const auto local = std::filesystem::path(xta_schema_dir()) / std::filesystem::path(u).filename();
    if (!std::filesystem::exists(local)) return nullptr;
    return xmlNewInputFromFile(ctxt, local.c_str());
  }
  return xmlNoNetExternalEntityLoader(url, id, ctxt);
}

void collect(void* user, const xmlError* e) {
  auto* out = static_cast<std::vector<std::string>*>(user);
  std::string msg = e->message ? e->message : "?";
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  out->push_back("line " + std::to_string(e->line) + ": " + msg);
}

struct Compiled {
  xmlSchemaPtr schema = nullptr;
  std::string error;
};

Compiled compile() {
  Compiled c;
  const std::string wsdl = xta_schema_dir() + "/XTA.wsdl";
  std::unique_ptr<xmlDoc, XmlDocFree> wsdl_doc(xmlReadFile(wsdl.c_str(), nullptr, XML_PARSE_NONET));
  if (!wsdl_doc) {
    c.error = "cannot read " + wsdl;
    return c;
  }
  const xmlNode* types = find_path(xmlDocGetRootElement(wsdl_doc.get()), "types/schema");
  if (!types) {
    c.error = "no types/schema in " + wsdl;
    return c;
  }
  // The <types> schema as a document of its own, located at the WSDL so relative
  // schemaLocations resolve next to it.
  std::unique_ptr<xmlDoc, XmlDocFree> schema_doc(xmlNewDoc(X("1.0")));
  xmlNode* copy = xmlDocCopyNode(const_cast<xmlNode*>(types), schema_doc.get(), 1);
  xmlDocSetRootElement(schema_doc.get(), copy);
  schema_doc->URL = xmlStrdup(X(wsdl.c_str()));

  ScopedEntityLoader loader(local_only, nullptr);
  std::vector<std::string> errors;
  xmlSchemaParserCtxtPtr pctxt = xmlSchemaNewDocParserCtxt(schema_doc.get());
  xmlSchemaSetParserStructuredErrors(pctxt, reinterpret_cast<xmlStructuredErrorFunc>(collect), &errors);
  c.schema = xmlSchemaParse(pctxt);
  xmlSchemaFreeParserCtxt(pctxt);
  if (!c.schema) c.error = errors.empty() ? "schema did not compile" : errors.front();
  return c;
}

xmlSchemaPtr schema() {
  static const Compiled compiled = compile();
  if (!compiled.schema) throw std::runtime_error("XTA schema: " + compiled.error);
  return compiled.schema;
}

std::vector<std::string> validate_doc(xmlDoc* doc) {
  std::vector<std::string> errors;
  xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(schema());
  xmlSchemaSetValidStructuredErrors(v, reinterpret_cast<xmlStructuredErrorFunc>(collect), &errors);
  const int rc = xmlSchemaValidateDoc(v, doc);
  xmlSchemaFreeValidCtxt(v);
  if (rc != 0 && errors.empty()) errors.push_back("validation failed (" + std::to_string(rc) + ")");
  return errors;
}

}  // namespace

std::string xta_schema_dir() {
  return std::string(XOEV_TESTDATA_DIR) + "/xta/erzwingungshaft-eai/src/main/resources/META-INF/schema";
}

std::vector<std::string> validate_element(const xmlNode* element) {
  std::unique_ptr<xmlDoc, XmlDocFree> doc(xmlNewDoc(X("1.0")));
  xmlDocSetRootElement(doc.get(), xmlDocCopyNode(const_cast<xmlNode*>(element), doc.get(), 1));
  auto errors = validate_doc(doc.get());
  for (auto& e : errors) e = std::string(local_name(element)) + ": " + e;
  return errors;
}

std::vector<std::string> validate_soap(const std::string& xml) {
  auto parsed = XmlDocument::parse(xml);
  if (!parsed) return {"not XML: " + parsed.problem().detail};
  auto errors = validate_doc(parsed->doc());
  const xmlNode* envelope = parsed->root();
  for (const char* part : {"Header", "Body"}) {
    const xmlNode* section = first_child(envelope, part);
    if (!section) continue;
    for (const xmlNode* block : child_elements(section)) {
      if (local_name(block) == "Fault") {  // a SOAP Fault: its Detail entries are XTA exceptions
        if (const xmlNode* detail = first_child(block, "Detail"))
          for (const xmlNode* d : child_elements(detail))
            for (auto& e : validate_element(d)) errors.push_back(e);
      }
      for (auto& e : validate_element(block)) errors.push_back(e);
    }
  }
  return errors;
}

}  // namespace xoev::xta::test
