// Hostile bodies through what ingest does before validation: the safe parse, then every
// built-in inbound adapter's detect/extract (XÖV G2G, XInneres, XRechnung head readers).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "adapters/inbound/xinneres/xinneres_adapter.h"
#include "adapters/inbound/xoev_g2g/xoev_g2g_adapter.h"
#include "adapters/inbound/xrechnung/xrechnung_adapter.h"
#include "gateway/core/xml_document.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const xoev::InboundAdapterPtr adapters[] = {xoev::make_xoev_g2g_adapter(), xoev::make_xinneres_adapter(),
                                                     xoev::make_xrechnung_adapter()};
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto doc = xoev::XmlDocument::parse(bytes, 1u << 20);
  if (!doc) {
    (void)doc.problem().to_json();  // the answer a sender would get must be renderable
    return 0;
  }
  (void)doc->root_name();
  (void)doc->root_namespace();
  (void)xoev::element_path(doc->root());
  for (const auto& adapter : adapters) {
    if (!adapter->detect(*doc)) continue;
    auto header = adapter->extract(*doc);
    if (!header) (void)header.problem().to_json();
  }
  return 0;
}
