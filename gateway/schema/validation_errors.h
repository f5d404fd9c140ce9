// Schema validation errors as problem.errors[]: collected from libxml2's structured
// error callback and turned into the schema_invalid Problem. Shared by the DOM
// validation (SchemaCatalog::validate) and the streaming one (StreamingInspector), so
// both report a failure the same way.
#pragma once

#include <libxml/xmlerror.h>
#include <libxml/tree.h>

#include <cstddef>
#include <vector>

#include "gateway/core/problem.h"

namespace xoev {

struct SchemaEntry;

struct ValidationErrors {
  std::vector<ProblemError> errors;
  std::size_t dropped = 0;  // errors beyond the cap, counted only
  // Streaming validation passes no node: this tells which element the parser is at
  // (nullptr when unknown), so line and element path match the DOM validation.
  const xmlNode* (*current_element)(void* user) = nullptr;
  int (*current_line)(void* user) = nullptr;  // the parser's line, when no element is known
  void* current_user = nullptr;
};

// An xmlStructuredErrorFunc; `user` is a ValidationErrors*.
void collect_validation_error(void* user, xmlErrorPtr err);

// The schema_invalid Problem for what was collected (at least one error).
Problem schema_invalid_problem(const SchemaEntry& entry, ValidationErrors&& collected);

}  // namespace xoev
