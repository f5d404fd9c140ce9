// Registers the file adapter: parses and checks its keys, builds it.
#include "adapters/outbound/file/file_adapter.h"
#include "adapters/outbound/file/file_settings.h"
#include "gateway/config/directory_check.h"
#include "gateway/config/outbound_registry.h"

namespace xoev {
namespace {

class FileAdapterFactory final : public OutboundAdapterFactory {
 public:
  std::string_view type() const override { return "file"; }
  std::vector<std::string> keys() const override { return {"directory", "file_name"}; }

  std::shared_ptr<const AdapterSettings> parse(config_detail::YamlReader& r, const YAML::Node& n) const override {
    auto s = std::make_shared<FileSettings>();
    s->directory = r.path(n, "directory", true);
    s->file_name = r.str(n, "file_name", s->file_name);
    if (s->file_name.find("{messageId}") == std::string::npos)
      r.error(n["file_name"], "file_name must contain {messageId} so that every message gets its own file");
    if (s->file_name.find('/') != std::string::npos || s->file_name.find('\0') != std::string::npos)
      r.error(n["file_name"], "file_name must not contain '/'");
    if (s->file_name.starts_with("."))
      r.error(n["file_name"], "file_name must not start with '.': hidden names are the adapter's temporary files");
    if (max_name_bytes(s->file_name) > kMaxFileNameBytes)
      r.error(n["file_name"], "file_name pattern can produce names longer than " + std::to_string(kMaxFileNameBytes) +
                                  " bytes (each placeholder stands for up to 128 characters)");
    return s;
  }

  void check_environment(const DestinationSection& d, std::vector<Problem>& problems) const override {
    const auto& s = d.adapter.as<FileSettings>();
    if (const auto why = unusable_directory(s.directory); !why.empty())
      problems.push_back(Problem::make(ProblemKind::config_invalid,
                                       "destination '" + d.id + "': directory '" + s.directory.string() + "' " + why)
                             .at(d.adapter.where));
  }

  std::vector<ExclusiveResource> exclusive(const AdapterSettings& settings) const override {
    const auto& s = dynamic_cast<const FileSettings&>(settings);
    return {{"inbox directory", fs::weakly_canonical(s.directory).string()}};
  }

  Result<OutboundAdapterPtr> create(const DestinationSection& d) const override {
    return make_file_adapter(d.adapter.as<FileSettings>());
  }

 private:
  static size_t max_name_bytes(const std::string& pattern) {
    size_t n = pattern.size();
    for (const char* p : {"{messageId}", "{destination}", "{messageType}"})
      for (size_t at = pattern.find(p); at != std::string::npos; at = pattern.find(p, at + 1))
        n += 128 - std::char_traits<char>::length(p);
    return n;
  }
};

XOEVGATE_OUTBOUND_ADAPTER(FileAdapterFactory);

}  // namespace
}  // namespace xoev
