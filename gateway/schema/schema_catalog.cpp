#include "gateway/core/text.h"
#include "gateway/schema/schema_catalog.h"

#include <libxml/xmlschemas.h>
#include <yaml-cpp/yaml.h>

#include <map>

#include "gateway/core/glob.h"
#include "gateway/schema/validation_errors.h"

namespace xoev {
namespace {

namespace fs = std::filesystem;

// Reads catalog.yaml into entries (not yet compiled), reporting file:line.
class CatalogReader {
 public:
  explicit CatalogReader(fs::path file) : file_(std::move(file)), dir_(file_.parent_path()) {}

  Location where(const YAML::Node& n) const { return {file_.string(), n.Mark().line + 1, n.Mark().column + 1}; }

  Problem error(const YAML::Node& at, const std::string& message) const {
    return Problem::make(ProblemKind::config_invalid, message).at(where(at));
  }

  Result<std::string> scalar(const YAML::Node& map, const char* key, bool required) const {
    const YAML::Node v = map[key];
    if (!v) {
      if (required) return error(map, std::string("missing key '") + key + "'");
      return std::string();
    }
    if (!v.IsScalar()) return error(v, std::string("'") + key + "' must be a string");
    return v.as<std::string>();
  }

  Result<SchemaEntry> entry(const YAML::Node& n) const {
    if (!n.IsMap()) return error(n, "a schema entry must be a map");
    for (const auto& kv : n) {
      const auto key = kv.first.as<std::string>();
      if (key != "standard" && key != "version" && key != "namespace" && key != "root" && key != "root_version" &&
          key != "xsd")
        return error(kv.first, "unknown key '" + key +
                                   "' (allowed: standard, version, namespace, root, root_version, xsd)");
    }
    SchemaEntry e;
    e.where = where(n);
    auto standard = scalar(n, "standard", true);
    if (!standard) return standard.problem();
    e.standard = *standard;
    auto version = scalar(n, "version", false);
    if (!version) return version.problem();
    e.version = *version;
    auto ns = scalar(n, "namespace", true);
    if (!ns) return ns.problem();
    e.root_namespace = *ns;
    auto root_version = scalar(n, "root_version", false);
    if (!root_version) return root_version.problem();
    e.root_version = *root_version;
    const YAML::Node root = n["root"];
    if (!root || root.IsScalar()) {
      e.root_elements.push_back(root ? root.as<std::string>() : "*");
    } else if (root.IsSequence() && root.size() > 0) {
      for (const auto& r : root) {
        if (!r.IsScalar()) return error(r, "'root' entries must be strings");
        e.root_elements.push_back(r.as<std::string>());
      }
    } else {
      return error(root, "'root' must be a glob or a non-empty list of globs");
    }
    auto xsd = scalar(n, "xsd", true);
    if (!xsd) return xsd.problem();
    e.xsd = (dir_ / *xsd).lexically_normal();
    std::error_code ec;
    if (!fs::is_regular_file(e.xsd, ec)) return error(n["xsd"], "schema file " + e.xsd.string() + " not found");
    return e;
  }

  const fs::path& dir() const { return dir_; }

 private:
  fs::path file_;
  fs::path dir_;
};

std::string version_attribute(const XmlDocument& doc) { return attribute(doc.root(), "version"); }

bool matches(const SchemaEntry& e, std::string_view root_namespace, std::string_view root_name,
             std::string_view version) {
  if (root_namespace != e.root_namespace) return false;
  if (!e.root_version.empty() && version != e.root_version) return false;
  for (const auto& g : e.root_elements)
    if (glob_match(g, root_name)) return true;
  return false;
}

struct ValidCtxtFree {
  void operator()(xmlSchemaValidCtxt* c) const { xmlSchemaFreeValidCtxt(c); }
};

}  // namespace

Result<std::shared_ptr<const SchemaCatalog>> SchemaCatalog::load(const fs::path& catalog_yaml,
                                                                 const std::vector<StandardSection>& configured) {
  xml_global_init();
  YAML::Node root;
  try {
    root = YAML::LoadFile(catalog_yaml.string());
  } catch (const YAML::BadFile&) {
    return Problem::make(ProblemKind::io_error, "cannot read schema catalog " + catalog_yaml.string());
  } catch (const YAML::ParserException& e) {
    return Problem::make(ProblemKind::config_invalid, e.msg).at({catalog_yaml.string(), e.mark.line + 1,
                                                                 e.mark.column + 1});
  }
  CatalogReader reader(catalog_yaml);
  if (!root.IsMap()) return reader.error(root, "the schema catalog must be a map with 'schemas:'");
  for (const auto& kv : root) {
    const auto key = kv.first.as<std::string>();
    if (key != "oasis_catalog" && key != "schemas")
      return reader.error(kv.first, "unknown key '" + key + "' (allowed: oasis_catalog, schemas)");
  }

  auto catalog = std::make_shared<SchemaCatalog>();
  std::error_code ec;
  catalog->directory_ = fs::weakly_canonical(reader.dir().empty() ? fs::path(".") : reader.dir(), ec);

  SchemaSources sources;
  sources.allowed_roots.push_back(catalog->directory_);
  auto oasis = reader.scalar(root, "oasis_catalog", false);
  if (!oasis) return oasis.problem();
  if (!oasis->empty()) {
    auto loaded = OasisCatalog::load(catalog->directory_ / *oasis);
    if (!loaded) {
      Problem p = std::move(loaded).problem();
      if (!p.location || p.location->line == 0) p.location = reader.where(root["oasis_catalog"]);
      return p;
    }
    sources.oasis_catalog = std::make_shared<const OasisCatalog>(std::move(loaded).value());
  }

  // Configured standards with their own XSD first (they may override shipped entries).
  for (const auto& s : configured) {
    if (!s.schema) continue;
    SchemaEntry e;
    e.standard = s.name;
    e.version = s.version;
    e.root_namespace = s.root_namespace;
    e.root_elements = {s.root_element.empty() ? "*" : s.root_element};
    e.root_version = s.version;
    e.xsd = s.schema->lexically_normal();
    e.where = s.where;
    catalog->entries_.push_back(std::move(e));
  }
  const YAML::Node list = root["schemas"];
  if (!list || !list.IsSequence()) return reader.error(root, "'schemas' must be a list of schema entries");
  for (const auto& n : list) {
    auto e = reader.entry(n);
    if (!e) return std::move(e).problem();
    catalog->entries_.push_back(std::move(e).value());
  }

  // Compile each distinct XSD once.
  std::map<fs::path, std::shared_ptr<const CompiledSchema>> compiled;
  for (auto& e : catalog->entries_) {
    auto& slot = compiled[e.xsd];
    if (!slot) {
      SchemaSources own = sources;
      own.allowed_roots.push_back(e.xsd.parent_path());  // a configured XSD may live elsewhere
      auto c = compile_schema(e.xsd, own);
      if (!c) {
        Problem p = std::move(c).problem();
        p.detail = e.standard + (e.version.empty() ? "" : " " + e.version) + ": " + p.detail;
        p.location = e.where;
        return p;
      }
      slot = std::move(c).value();
    }
    e.compiled = slot;
  }
  return std::shared_ptr<const SchemaCatalog>(std::move(catalog));
}

const SchemaEntry* SchemaCatalog::find(const XmlDocument& doc) const {
  return find(doc.root_namespace(), doc.root_name(), version_attribute(doc));
}

Status SchemaCatalog::validate(const SchemaEntry& entry, const XmlDocument& doc) const {
  if (!entry.compiled)
    return Problem::make(ProblemKind::internal, "no compiled schema for " + entry.standard);
  std::unique_ptr<xmlSchemaValidCtxt, ValidCtxtFree> ctxt(xmlSchemaNewValidCtxt(entry.compiled->get()));
  if (!ctxt) return Problem::make(ProblemKind::internal, "cannot allocate a schema validation context");
  ValidationErrors collector;
  xmlSchemaSetValidStructuredErrors(ctxt.get(), collect_validation_error, &collector);
  const int rc = xmlSchemaValidateDoc(ctxt.get(), doc.doc());
  if (rc == 0) return ok_status();
  if (rc < 0 && collector.errors.empty())
    return Problem::make(ProblemKind::internal, "libxml2 could not run the schema validation");
  return schema_invalid_problem(entry, std::move(collector));
}

const SchemaEntry* SchemaCatalog::find(std::string_view root_namespace, std::string_view root_name,
                                       std::string_view version_attribute) const {
  const SchemaEntry* best = nullptr;
  for (const auto& e : entries_) {
    if (!matches(e, root_namespace, root_name, version_attribute)) continue;
    if (best == nullptr || (best->root_version.empty() && !e.root_version.empty())) best = &e;
  }
  return best;
}

}  // namespace xoev
