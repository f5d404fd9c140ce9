// Registers the xta adapter: parses and checks its keys, builds it.
#include "adapters/outbound/xta/xta_adapter.h"
#include "adapters/outbound/xta/xta_settings.h"
#include "gateway/config/directory_check.h"
#include "gateway/config/listen_check.h"
#include "gateway/config/outbound_registry.h"
#include "gateway/config/security_config_reader.h"

namespace xoev {
namespace {

class XtaAdapterFactory final : public OutboundAdapterFactory {
 public:
  std::string_view type() const override { return "xta"; }
  std::vector<std::string> keys() const override { return {"directory", "listen", "tls", "allow_plaintext", "readers"}; }

  std::shared_ptr<const AdapterSettings> parse(config_detail::YamlReader& r, const YAML::Node& n) const override {
    auto s = std::make_shared<XtaSettings>();
    s->directory = r.path(n, "directory", true);
    s->listen = r.str(n, "listen", s->listen, true);
    if (!is_listen_address(s->listen)) r.error(n["listen"], "listen must be HOST:PORT, got '" + s->listen + "'");
    if (n["tls"]) s->tls = config_detail::read_tls_section(r, n["tls"], "xta tls");
    s->allow_plaintext = r.boolean(n, "allow_plaintext", false);
    if (!s->tls && !s->allow_plaintext && is_listen_address(s->listen) && !config_detail::is_loopback_listen(s->listen))
      r.error(n["listen"], "the XTA mailbox listens on '" + s->listen + "' without tls: give tls {certificate, private_key, "
                           "client_ca} (and readers), or allow_plaintext: true");
    if (const auto readers = n["readers"]; readers) {
      if (!readers.IsSequence()) r.error(readers, "readers must be a list of {client_certificate_sha256 | client_certificate_subject}");
      else
        for (const auto& item : readers) {
          if (!r.is_map(item, "a reader")) continue;
          r.only_keys(item, {"client_certificate_sha256", "client_certificate_subject"}, "reader");
          if (item["client_certificate_sha256"]) {
            const auto fp = config_detail::normalize_fingerprint(r.str(item, "client_certificate_sha256", ""));
            if (fp.empty()) r.error(item["client_certificate_sha256"], "client_certificate_sha256 must be 32 bytes as hex");
            else s->reader_sha256.push_back(fp);
          }
          if (item["client_certificate_subject"]) s->reader_subjects.push_back(r.str(item, "client_certificate_subject", ""));
        }
      if (!s->tls || s->tls->client_ca.empty())
        r.error(readers, "readers need tls with a client_ca: certificates are checked against it");
    }
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
