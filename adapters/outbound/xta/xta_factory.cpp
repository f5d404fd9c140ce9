// Registers the xta adapter: parses and checks its keys, builds it.
#include "adapters/outbound/xta/xta_adapter.h"
#include "adapters/outbound/xta/xta_settings.h"
#include "gateway/config/directory_check.h"
#include "gateway/config/listen_check.h"
#include "gateway/config/outbound_registry.h"

namespace xoev {
namespace {

class XtaAdapterFactory final : public OutboundAdapterFactory {
 public:
  std::string_view type() const override { return "xta"; }
  std::vector<std::string> keys() const override { return {"directory", "listen"}; }

  std::shared_ptr<const AdapterSettings> parse(config_detail::YamlReader& r, const YAML::Node& n) const override {
    auto s = std::make_shared<XtaSettings>();
    s->directory = r.path(n, "directory", true);
    s->listen = r.str(n, "listen", s->listen, true);
    if (!is_listen_address(s->listen)) r.error(n["listen"], "listen must be HOST:PORT, got '" + s->listen + "'");
    return s;
  }

  void check_environment(const DestinationSection& d, std::vector<Problem>& problems) const override {
    const auto& s = d.adapter.as<XtaSettings>();
    if (const auto why = unusable_directory(s.directory); !why.empty())
      problems.push_back(Problem::make(ProblemKind::config_invalid,
                                       "destination '" + d.id + "': mailbox directory '" + s.directory.string() + "' " + why)
                             .at(d.adapter.where));
  }

  std::vector<ExclusiveResource> exclusive(const AdapterSettings& settings) const override {
    const auto& s = dynamic_cast<const XtaSettings&>(settings);
    return {{"mailbox directory", fs::weakly_canonical(s.directory).string()}, {std::string(kListenResource), s.listen}};
  }

  Result<OutboundAdapterPtr> create(const DestinationSection& d) const override {
    return make_xta_adapter(d.adapter.as<XtaSettings>());
  }
};

XOEVGATE_OUTBOUND_ADAPTER(XtaAdapterFactory);

}  // namespace
}  // namespace xoev
