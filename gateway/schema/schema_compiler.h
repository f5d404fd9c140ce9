// Compiles one XSD (with everything it imports) into a libxml2 schema, safely:
// imports resolve through a private OASIS XML catalog, only local files below the
// allowed directories are read, the network is never touched, and libxml2's quiet
// fallbacks (a refused or missing import, a second file for an already imported
// namespace) become errors instead of a silently smaller schema.
#pragma once

#include <libxml/xmlschemas.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "gateway/core/result.h"
#include "gateway/schema/oasis_catalog.h"

namespace xoev {

// A compiled schema: immutable after compilation, shared by all validating threads.
class CompiledSchema {
 public:
  explicit CompiledSchema(xmlSchemaPtr s) : schema_(s) {}
  ~CompiledSchema() { xmlSchemaFree(schema_); }
  CompiledSchema(const CompiledSchema&) = delete;
  CompiledSchema& operator=(const CompiledSchema&) = delete;
  xmlSchemaPtr get() const { return schema_; }

 private:
  xmlSchemaPtr schema_;
};

struct SchemaSources {
  std::shared_ptr<const OasisCatalog> oasis_catalog;  // may be null: no URL mapping
  std::vector<std::filesystem::path> allowed_roots;  // directories schema files may come from
};

// Problem config_invalid whose errors[] name file:line of each schema error.
Result<std::shared_ptr<const CompiledSchema>> compile_schema(const std::filesystem::path& xsd,
                                                             const SchemaSources& sources);

}  // namespace xoev
