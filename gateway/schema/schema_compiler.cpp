#include "gateway/core/text.h"
#include "gateway/schema/schema_compiler.h"

#include <libxml/globals.h>
#include <libxml/parserInternals.h>
#include <libxml/uri.h>
#include <libxml/xmlerror.h>

#include <mutex>
#include <regex>
#include <string>

#include "gateway/core/xml_document.h"

namespace xoev {
namespace {

namespace fs = std::filesystem;

struct ParserCtxtFree {
  void operator()(xmlSchemaParserCtxt* c) const { xmlSchemaFreeParserCtxt(c); }
};

// Everything one compilation needs; lives on the compiling thread's stack.
struct Compilation {
  const OasisCatalog* catalog = nullptr;
  const std::vector<fs::path>* roots = nullptr;
  std::vector<ProblemError> errors;

  void error(const std::string& file, int line, const std::string& message) {
    errors.push_back({line, 0, "", (file.empty() ? "" : file + ":" + std::to_string(line) + ": ") + message});
  }

  // An import URL as the catalog maps it (unchanged if it has no entry).
  std::string resolve(const std::string& url) const {
    if (catalog == nullptr) return url;
    return catalog->resolve(url).value_or(url);
  }

  // A local path for a (resolved) location, or nothing if it names another scheme.
  static std::optional<fs::path> local_path(const std::string& location) {
    std::string rest = location;
    if (rest.rfind("file://", 0) == 0) {
      rest = rest.substr(7);
      if (rest.rfind("localhost/", 0) == 0) rest = rest.substr(9);
      char* unescaped = xmlURIUnescapeString(rest.c_str(), 0, nullptr);
      if (unescaped != nullptr) {
        rest = unescaped;
        xmlFree(unescaped);
      }
      return fs::path(rest);
    }
    static const std::regex scheme("^[A-Za-z][A-Za-z0-9+.-]*:");
    if (std::regex_search(rest, scheme)) return std::nullopt;
    return fs::path(rest);
  }

  bool allowed(const fs::path& p) const {
    for (const auto& root : *roots) {
      const auto rel = p.lexically_relative(root);
      if (!rel.empty() && *rel.begin() != "..") return true;
    }
    return false;
  }

  std::optional<fs::path> canonical_file(const std::string& location) const {
    auto path = local_path(resolve(location));
    if (!path) return std::nullopt;
    std::error_code ec;
    auto canon = fs::weakly_canonical(*path, ec);
    if (ec) return std::nullopt;
    return canon;
  }
};

// Loader for every file the compilation reads: the entry XSD, its includes and imports.
xmlParserInputPtr load_schema_file(const char* url, const char*, xmlParserCtxtPtr ctxt, void* user) {
  auto& c = *static_cast<Compilation*>(user);
  const std::string location = url ? url : "";
  const std::string target = c.resolve(location);
  const auto path = Compilation::local_path(target);
  if (!path) {
    c.error("", 0, "import of '" + location +
                       "' refused: it is not mapped to a local file in the OASIS catalog and the network is never used");
    return nullptr;
  }
  std::error_code ec;
  const fs::path canon = fs::weakly_canonical(*path, ec);
  if (ec || !c.allowed(canon)) {
    c.error("", 0, "import of '" + location + "' refused: " + path->string() + " is outside the schema directories");
    return nullptr;
  }
  if (!fs::is_regular_file(canon, ec)) {
    c.error("", 0, "schema file '" + location + "' not found (" + canon.string() + ")");
    return nullptr;
  }
  return xmlNewInputFromFile(ctxt, canon.c_str());
}

// libxml2 keeps only the first file imported for a namespace and merely warns about
// later ones. Harmless when both locations are the same file (one via URL, one via a
// relative path); otherwise part of the schema would silently be missing.
bool is_harmless_duplicate_import(const Compilation& c, const std::string& message) {
  static const std::regex skip(
      "Skipping import of schema located at '([^']*)' for the namespace '[^']*', since this namespace was "
      "already imported with the schema located at '([^']*)'");
  std::smatch m;
  if (!std::regex_search(message, m, skip)) return false;
  const auto skipped = c.canonical_file(m[1].str());
  const auto kept = c.canonical_file(m[2].str());
  return skipped && kept && *skipped == *kept;
}

void collect_compile_error(void* user, xmlErrorPtr err) {
  auto& c = *static_cast<Compilation*>(user);
  if (err == nullptr) return;
  const std::string message = trim(err->message ? err->message : "unknown schema error");
  if (err->level == XML_ERR_WARNING && is_harmless_duplicate_import(c, message)) return;
  // Every other warning counts: libxml2 warns where it drops part of a schema.
  c.error(err->file ? err->file : "", err->line, message);
}

// Compilations are rare (start, reload); one at a time keeps libxml2's schema parser
// and the thread's error handler swap simple to reason about.
std::mutex& compile_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

Result<std::shared_ptr<const CompiledSchema>> compile_schema(const fs::path& xsd, const SchemaSources& sources) {
  xml_global_init();
  std::lock_guard lock(compile_mutex());

  Compilation c;
  std::vector<fs::path> roots;
  for (const auto& r : sources.allowed_roots) {
    std::error_code ec;
    roots.push_back(fs::weakly_canonical(r, ec));
  }
  c.roots = &roots;

  c.catalog = sources.oasis_catalog.get();

  std::error_code ec;
  const fs::path entry = fs::weakly_canonical(xsd, ec);
  xmlSchemaPtr schema = nullptr;
  {
    ScopedEntityLoader loader(load_schema_file, &c);
    // Errors of the sub-parsers (I/O, XML syntax in an XSD) go to this thread's
    // structured handler; restore the caller's afterwards.
    const xmlStructuredErrorFunc saved_fn = xmlStructuredError;
    void* const saved_ctx = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(&c, collect_compile_error);
    std::unique_ptr<xmlSchemaParserCtxt, ParserCtxtFree> pctxt(xmlSchemaNewParserCtxt(entry.c_str()));
    if (pctxt) {
      xmlSchemaSetParserStructuredErrors(pctxt.get(), collect_compile_error, &c);
      schema = xmlSchemaParse(pctxt.get());
    }
    xmlSetStructuredErrorFunc(saved_ctx, saved_fn);
  }
  auto compiled = std::make_shared<const CompiledSchema>(schema);  // frees on every path
  if (schema == nullptr || !c.errors.empty()) {
    if (c.errors.empty()) c.error(entry.string(), 0, "the schema does not compile");
    Problem p = Problem::make(ProblemKind::config_invalid, "schema " + xsd.string() + " does not compile: " +
                                                               c.errors.front().message +
                                                               (c.errors.size() > 1 ? " (and " +
                                                                   std::to_string(c.errors.size() - 1) +
                                                                   " more errors)" : ""));
    p.errors = std::move(c.errors);
    return p;
  }
  return std::shared_ptr<const CompiledSchema>(std::move(compiled));
}

}  // namespace xoev
