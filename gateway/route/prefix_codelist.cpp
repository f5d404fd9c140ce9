#include "gateway/route/prefix_codelist.h"

#include <fstream>
#include <sstream>

#include "gateway/core/xml_document.h"

namespace xoev {

Result<PrefixCodelist> PrefixCodelist::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Problem::make(ProblemKind::io_error, "cannot read the prefix code list '" + file.string() + "'");
  std::stringstream bytes;
  bytes << in.rdbuf();
  auto doc = XmlDocument::parse(bytes.str(), 16u << 20);
  if (!doc) {
    Problem p = doc.problem();
    p.detail = file.string() + ": " + p.detail;
    return p;
  }
  const xmlNode* root = doc->root();
  if (doc->root_name() != "CodeList")
    return Problem::make(ProblemKind::config_invalid,
                         file.string() + " is not a genericode CodeList (root element '" + doc->root_name() + "')");
  PrefixCodelist out;
  out.version = text_of(find_path(root, "Identification/Version"));
  const xmlNode* rows = first_child(root, "SimpleCodeList");
  for (const xmlNode* row : child_elements(rows)) {
    if (local_name(row) != "Row") continue;
    for (const xmlNode* value : child_elements(row))
      if (local_name(value) == "Value" && attribute(value, "ColumnRef") == "praefix")
        out.prefixes.insert(text_of(first_child(value, "SimpleValue")));
  }
  out.prefixes.erase("");
  if (out.prefixes.empty())
    return Problem::make(ProblemKind::config_invalid,
                         file.string() + " lists no prefixes (no Row with a Value ColumnRef=\"praefix\")");
  return out;
}

}  // namespace xoev
