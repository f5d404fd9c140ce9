#include "gateway/schema/validation_errors.h"

#include "gateway/core/text.h"
#include "gateway/core/xml_document.h"
#include "gateway/schema/schema_catalog.h"

namespace xoev {

void collect_validation_error(void* user, xmlErrorPtr err) {
  auto& c = *static_cast<ValidationErrors*>(user);
  if (err == nullptr || err->level == XML_ERR_WARNING) return;
  if (c.errors.size() >= SchemaCatalog::kMaxErrors) {
    ++c.dropped;
    return;
  }
  ProblemError e;
  e.line = err->line;
  e.column = err->int2 > 0 ? err->int2 : 0;  // libxml2 2.9 knows columns only for parser errors
  const auto* node = static_cast<const xmlNode*>(err->node);
  if (node == nullptr && c.current_element != nullptr) {
    node = c.current_element(c.current_user);
    if (node != nullptr) e.line = 0;  // the element's line, as the DOM validation reports it
  }
  if (node != nullptr) {
    e.element = element_path(node->type == XML_ELEMENT_NODE ? node : node->parent);
    if (e.line == 0) e.line = line_of(node);
  }
  if (e.line == 0 && c.current_line != nullptr) e.line = c.current_line(c.current_user);
  e.message = trim(err->message ? err->message : "schema validation error");
  c.errors.push_back(std::move(e));
}

Problem schema_invalid_problem(const SchemaEntry& entry, ValidationErrors&& collected) {
  const size_t total = collected.errors.size() + collected.dropped;
  const std::string name = entry.standard + (entry.version.empty() ? "" : " " + entry.version);
  std::string detail = "the message does not conform to the " + name + " schema (" + entry.xsd.filename().string() +
                       "): " + std::to_string(total) + (total == 1 ? " error" : " errors");
  if (!collected.errors.empty()) {
    const auto& first = collected.errors.front();
    detail += "; first at line " + std::to_string(first.line) + ": " + first.message;
  }
  if (collected.dropped > 0) detail += " (only the first " + std::to_string(SchemaCatalog::kMaxErrors) + " are listed)";
  Problem p = Problem::make(ProblemKind::schema_invalid, detail);
  if (!collected.errors.empty())
    p.location = Location{"", collected.errors.front().line, collected.errors.front().column};
  p.errors = std::move(collected.errors);
  return p;
}

}  // namespace xoev
