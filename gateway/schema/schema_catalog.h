// The schema catalog: which XSD validates which message, every schema compiled once
// at load and shared read-only by all threads. Loaded from schemas/catalog.yaml (its
// format is documented at the top of that file) plus config-defined standards that
// name their own XSD.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/core/result.h"
#include "gateway/core/xml_document.h"
#include "gateway/schema/schema_compiler.h"

namespace xoev {

struct SchemaEntry {
  std::string standard;                     // e.g. XWasser
  std::string version;                      // e.g. 1.0.0 (reported, not matched)
  std::string root_namespace;               // must equal the root's namespace
  std::vector<std::string> root_elements;   // globs over the root's local name; one must match
  std::string root_version;                 // if set, the root's version attribute must equal it
  std::filesystem::path xsd;                // absolute
  Location where;                           // catalog.yaml:line or config file:line
  std::shared_ptr<const CompiledSchema> compiled;
};

class SchemaCatalog {
 public:
  // Compiles every schema once (shared by all threads). Errors name catalog.yaml:line
  // (or the config file:line of a configured standard).
  static Result<std::shared_ptr<const SchemaCatalog>> load(const std::filesystem::path& catalog_yaml,
                                                          const std::vector<StandardSection>& configured = {});

  // By root namespace + element (+ version attribute); nullptr if no entry matches.
  // Configured standards come first; among them and among the shipped ones, an
  // entry that pins root_version beats one that does not.
  const SchemaEntry* find(const XmlDocument& doc) const;
  // The same by the root's parts, known before the document is (streaming ingest).
  const SchemaEntry* find(std::string_view root_namespace, std::string_view root_name,
                          std::string_view version_attribute) const;

  // Ok, or Problem schema_invalid with errors[] {line, column, element path, message}
  // (at most kMaxErrors). Thread-safe: a fresh validation context per call.
  Status validate(const SchemaEntry& entry, const XmlDocument& doc) const;

  const std::vector<SchemaEntry>& entries() const { return entries_; }
  const std::filesystem::path& directory() const { return directory_; }

  static constexpr size_t kMaxErrors = 50;

 private:
  std::vector<SchemaEntry> entries_;
  std::filesystem::path directory_;
};

}  // namespace xoev
