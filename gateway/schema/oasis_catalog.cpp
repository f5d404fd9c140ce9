#include "gateway/schema/oasis_catalog.h"

#include <libxml/parser.h>
#include <libxml/uri.h>

#include <memory>

#include "gateway/core/xml_document.h"

namespace xoev {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kCatalogNs = "urn:oasis:names:tc:entity:xmlns:xml:catalog";
constexpr int kMaxNesting = 8;  // nextCatalog chains

// A reference in the catalog resolved against the element's base (xml:base or the file).
std::string absolute(const xmlNode* n, const std::string& ref) {
  xmlChar* base = xmlNodeGetBase(n->doc, n);
  xmlChar* built = xmlBuildURI(reinterpret_cast<const xmlChar*>(ref.c_str()), base);
  std::string out = built ? reinterpret_cast<const char*>(built) : ref;
  xmlFree(built);
  xmlFree(base);
  return out;
}

}  // namespace

Result<OasisCatalog> OasisCatalog::load(const fs::path& file) {
  OasisCatalog c;
  auto status = c.read(file, 0);
  if (!status) return std::move(status).problem();
  return c;
}

Status OasisCatalog::read(const fs::path& file, int depth) {
  xml_global_init();
  if (depth > kMaxNesting)
    return Problem::make(ProblemKind::config_invalid, "nextCatalog nesting deeper than 8 at " + file.string());
  std::error_code ec;
  const fs::path canon = fs::weakly_canonical(file, ec);
  // A catalog is a trusted, local file; still: no network, no DTD, no entity expansion.
  std::unique_ptr<xmlDoc, XmlDocFree> doc(
      xmlReadFile(canon.c_str(), nullptr, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc || xmlDocGetRootElement(doc.get()) == nullptr) {
    const xmlError* err = xmlGetLastError();
    return Problem::make(ProblemKind::config_invalid,
                         "OASIS catalog " + file.string() + " cannot be read" +
                             (err && err->message ? std::string(": ") + err->message : std::string()))
        .at({file.string(), err ? err->line : 0, 0});
  }
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (local_name(root) != "catalog" || namespace_of(root) != kCatalogNs)
    return Problem::make(ProblemKind::config_invalid,
                         "OASIS catalog " + file.string() + ": the root must be <catalog xmlns=\"" +
                             std::string(kCatalogNs) + "\">")
        .at({file.string(), line_of(root), 0});

  std::vector<const xmlNode*> todo = child_elements(root);
  for (size_t i = 0; i < todo.size(); ++i) {
    const xmlNode* n = todo[i];
    if (namespace_of(n) != kCatalogNs) continue;  // foreign elements are allowed and ignored
    const auto name = local_name(n);
    const auto need = [&](const char* attr) { return attribute(n, attr); };
    const auto missing = [&](const char* attr) {
      // append() rather than "<" + std::string(...): GCC 12 -O3 warns falsely (-Wrestrict) on the latter.
      return Problem::make(ProblemKind::config_invalid,
                           std::string("<").append(name).append("> needs the attribute '").append(attr).append("'"))
          .at({file.string(), line_of(n), 0});
    };
    if (name == "group") {
      for (const xmlNode* c : child_elements(n)) todo.push_back(c);
    } else if (name == "uri" || name == "system") {
      const std::string key = need(name == "uri" ? "name" : "systemId");
      const std::string target = need("uri");
      if (key.empty()) return missing(name == "uri" ? "name" : "systemId");
      if (target.empty()) return missing("uri");
      exact_.emplace(key, absolute(n, target));  // the first entry wins, as in the spec
    } else if (name == "rewriteURI" || name == "rewriteSystem") {
      const std::string start = need(name == "rewriteURI" ? "uriStartString" : "systemIdStartString");
      const std::string prefix = need("rewritePrefix");
      if (start.empty() || prefix.empty()) return missing(start.empty() ? "uriStartString" : "rewritePrefix");
      rewrites_.push_back({start, absolute(n, prefix)});
    } else if (name == "uriSuffix" || name == "systemSuffix") {
      const std::string suffix = need(name == "uriSuffix" ? "uriSuffix" : "systemIdSuffix");
      const std::string target = need("uri");
      if (suffix.empty() || target.empty()) return missing(suffix.empty() ? "uriSuffix" : "uri");
      suffixes_.push_back({suffix, absolute(n, target)});
    } else if (name == "nextCatalog") {
      const std::string next = need("catalog");
      if (next.empty()) return missing("catalog");
      auto path = absolute(n, next);
      if (path.rfind("file://", 0) == 0) path = path.substr(7);
      OasisCatalog sub;
      auto status = sub.read(path, depth + 1);
      if (!status) return status;
      next_.push_back(std::move(sub));
    } else if (name == "public" || name == "delegatePublic" || name == "delegateSystem" || name == "delegateURI") {
      continue;  // public ids and delegation play no part in schema imports
    } else {
      return Problem::make(ProblemKind::config_invalid, "unknown OASIS catalog entry <" + std::string(name) + ">")
          .at({file.string(), line_of(n), 0});
    }
  }
  return ok_status();
}

std::optional<std::string> OasisCatalog::resolve(const std::string& uri) const {
  if (const auto it = exact_.find(uri); it != exact_.end()) return it->second;
  const Rule* best = nullptr;
  for (const auto& r : rewrites_)  // the longest matching start string wins
    if (uri.rfind(r.match, 0) == 0 && (!best || r.match.size() > best->match.size())) best = &r;
  if (best) return best->target + uri.substr(best->match.size());
  for (const auto& r : suffixes_)
    if (uri.size() >= r.match.size() && uri.compare(uri.size() - r.match.size(), r.match.size(), r.match) == 0 &&
        (!best || r.match.size() > best->match.size()))
      best = &r;
  if (best) return best->target;
  for (const auto& next : next_)
    if (auto found = next.resolve(uri)) return found;
  return std::nullopt;
}

}  // namespace xoev
