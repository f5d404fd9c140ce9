// The inbound seam: an adapter recognises a kind of document and extracts its
// routing header. It never validates, routes or answers: the ingest pipeline does.
// New standards with an XÖV head need no adapter at all (the XÖV ones find the
// head in any namespace); others are added in config (configured/) or as one
// folder here with one class.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "gateway/core/result.h"
#include "gateway/core/routing_header.h"
#include "gateway/core/xml_document.h"

namespace xoev {

class InboundAdapter {
 public:
  virtual ~InboundAdapter() = default;
  virtual std::string_view name() const = 0;
  // Cheap: looks at the root (namespace, element) and at most its direct children.
  virtual bool detect(const XmlDocument& doc) const = 0;
  // The header, or missing_routing_header / invalid_routing_field with a location.
  virtual Result<RoutingHeader> extract(const XmlDocument& doc) const = 0;
};

using InboundAdapterPtr = std::shared_ptr<const InboundAdapter>;

}  // namespace xoev
