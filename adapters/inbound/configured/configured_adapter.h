// Standards added by configuration, not code: a `standards:` entry of the gateway
// config names the root (namespace, element, optional version attribute) and XPath
// expressions for id, type, reader and author. The XPaths are compiled once here.
#pragma once

#include "adapters/inbound/inbound_adapter.h"
#include "gateway/config/config.h"

namespace xoev {

// The adapter for one configured standard; config_invalid if the section is unusable.
Result<InboundAdapterPtr> make_configured_adapter(const StandardSection& section);

// Checks a section without building the adapter: required fields present, every XPath
// compiles and uses only declared namespace prefixes. The Problem (config_invalid, at
// section.where) names the standard, the field and why.
Status check_standard_section(const StandardSection& section);

}  // namespace xoev
