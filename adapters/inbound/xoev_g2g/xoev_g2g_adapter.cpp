#include "adapters/inbound/xoev_g2g/xoev_g2g_adapter.h"

#include "adapters/inbound/xoev_common/xoev_head_reader.h"

namespace xoev {
namespace {

constexpr std::string_view kHead = "nachrichtenkopf.g2g";
constexpr std::string_view kNamespace = "http://xoev.de/schemata/basisnachricht/g2g/1_1";

class XoevG2gAdapter final : public InboundAdapter {
 public:
  std::string_view name() const override { return "xoev-g2g"; }

  bool detect(const XmlDocument& doc) const override { return head(doc) != nullptr; }

  Result<RoutingHeader> extract(const XmlDocument& doc) const override {
    const xmlNode* h = head(doc);
    if (!h)
      return Problem::make(ProblemKind::missing_routing_header,
                           "no <nachrichtenkopf.g2g> below the root element " + element_path(doc.root()))
          .at({"", line_of(doc.root()), 0});
    return xoev_head::read_head(doc, h, "xoev-g2g");
  }

 private:
  static const xmlNode* head(const XmlDocument& doc) {
    const xmlNode* h = first_child(doc.root(), kHead);
    if (!h) return nullptr;
    // Qualified heads must be in the G2G namespace; unqualified ones have none.
    const auto ns = namespace_of(h);
    return ns.empty() || ns == kNamespace ? h : nullptr;
  }
};

}  // namespace

InboundAdapterPtr make_xoev_g2g_adapter() { return std::make_shared<XoevG2gAdapter>(); }

}  // namespace xoev
