#include "adapters/inbound/xinneres/xinneres_adapter.h"

#include "adapters/inbound/xoev_common/xoev_head_reader.h"

namespace xoev {
namespace {

class XinneresAdapter final : public InboundAdapter {
 public:
  std::string_view name() const override { return "xinneres"; }

  bool detect(const XmlDocument& doc) const override { return first_child(doc.root(), "nachrichtenkopf") != nullptr; }

  Result<RoutingHeader> extract(const XmlDocument& doc) const override {
    const xmlNode* h = first_child(doc.root(), "nachrichtenkopf");
    if (!h)
      return Problem::make(ProblemKind::missing_routing_header,
                           "no <nachrichtenkopf> below the root element " + element_path(doc.root()))
          .at({"", line_of(doc.root()), 0});
    return xoev_head::read_head(doc, h, "xinneres");
  }
};

}  // namespace

InboundAdapterPtr make_xinneres_adapter() { return std::make_shared<XinneresAdapter>(); }

}  // namespace xoev
