// `xoevgate validate FILE... [--catalog schemas/catalog.yaml]`: schema-validates files
// against the shipped catalog, as the gateway would. Exit 0 all valid, 1 some invalid
// (not XML, unknown standard, schema errors), 2 usage/IO error. One line per finding
// on stdout: `FILE:LINE:COL: message`, COL 0 where libxml2 knows no column.
//
// Default catalog: ./schemas/catalog.yaml, else the one of the installation the binary
// belongs to (<binary dir>/../schemas, <binary dir>/../share/xoevgate/schemas), so it
// works from the source tree, from a build directory inside it, and installed.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "gateway/cli/command.h"
#include "gateway/schema/schema_catalog.h"

namespace {

namespace fs = std::filesystem;
using namespace xoev;

fs::path default_catalog() {
  const fs::path here = fs::path("schemas") / "catalog.yaml";
  std::error_code ec;
  if (fs::is_regular_file(here, ec)) return here;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const fs::path& rel : {fs::path("../schemas/catalog.yaml"), fs::path("../share/xoevgate/schemas/catalog.yaml")}) {
      const fs::path candidate = (exe.parent_path() / rel).lexically_normal();
      if (fs::is_regular_file(candidate, ec)) return candidate;
    }
  }
  return here;  // the error message then names the expected place
}

std::string position(const std::string& file, int line, int column) {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

// 0 valid, 1 invalid, 2 unreadable.
int validate_file(const SchemaCatalog& catalog, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "xoevgate: " << file << ": cannot read the file\n";
    return 2;
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) {
    std::cerr << "xoevgate: " << file << ": read error\n";
    return 2;
  }
  auto doc = XmlDocument::parse(bytes.str());
  if (!doc) {
    const Problem& p = doc.problem();
    const int line = p.location ? p.location->line : 0;
    const int col = p.location ? p.location->column : 0;
    std::cout << position(file, line, col) << (p.kind == ProblemKind::malformed_xml ? "not well-formed XML" : p.title) << ": " << p.detail << "\n";
    return 1;
  }
  const SchemaEntry* entry = catalog.find(*doc);
  if (entry == nullptr) {
    std::cout << position(file, line_of(doc->root()), 0) << "unknown standard: no schema in the catalog for root element {"
              << doc->root_namespace() << "}" << doc->root_name() << "\n";
    return 1;
  }
  auto status = catalog.validate(*entry, *doc);
  if (!status) {
    const Problem& p = status.problem();
    for (const auto& e : p.errors)
      std::cout << position(file, e.line, e.column) << e.message << (e.element.empty() ? "" : " (at " + e.element + ")")
                << "\n";
    if (p.errors.size() == SchemaCatalog::kMaxErrors)
      std::cout << file << ": only the first " << SchemaCatalog::kMaxErrors << " errors are shown\n";
    if (p.errors.empty()) std::cout << position(file, 0, 0) << p.detail << "\n";
    return 1;
  }
  std::cout << file << ": valid (" << entry->standard << (entry->version.empty() ? "" : " " + entry->version) << ", "
            << entry->xsd.filename().string() << ")\n";
  return 0;
}

cli::Runner setup_validate(CLI::App& sub) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto catalog_path = std::make_shared<std::string>();
  sub.add_option("FILE", *files, "XML files to validate")->required();
  sub.add_option("--catalog", *catalog_path,
                 "schema catalog (default: ./schemas/catalog.yaml, else the installation's schemas/catalog.yaml)");
  return [files, catalog_path]() -> int {
    const fs::path path = catalog_path->empty() ? default_catalog() : fs::path(*catalog_path);
    auto catalog = SchemaCatalog::load(path);
    if (!catalog) {
      Problem p = catalog.problem();
      for (const auto& e : p.errors) std::cerr << "xoevgate: " << e.message << "\n";
      p.kind = p.kind == ProblemKind::io_error ? ProblemKind::io_error : ProblemKind::config_invalid;
      return cli::fail(p);
    }
    int worst = 0;
    for (const auto& f : *files) worst = std::max(worst, validate_file(**catalog, f));
    return worst;
  };
}

XOEVGATE_COMMAND("validate", "schema-validate XML files against the schema catalog", setup_validate);

}  // namespace
