// Outbound adapters are extensions registered by name, the way Envoy registers
// filter factories: each adapter folder defines one factory (its typed settings, the
// parser for its own keys, its deeper checks and how to build it) and registers it
// with XOEVGATE_OUTBOUND_ADAPTER. The config loader, check-config and the delivery
// loop only ever ask the registry, so a new target is one new folder.
#pragma once

#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/outbound/outbound_adapter.h"
#include "gateway/config/config.h"
#include "gateway/config/yaml_reader.h"

namespace xoev {

// Something an adapter holds alone: two destinations must never share it.
struct ExclusiveResource {
  std::string kind;   // "directory", "listen port" ... (shown in the error)
  std::string value;  // normalised, comparable
};

class OutboundAdapterFactory {
 public:
  virtual ~OutboundAdapterFactory() = default;
  virtual std::string_view type() const = 0;
  // The keys this adapter adds under adapter: (the common ones are the loader's).
  virtual std::vector<std::string> keys() const = 0;
  // Reads its own keys; every error goes to the reader with file:line. Never null.
  virtual std::shared_ptr<const AdapterSettings> parse(config_detail::YamlReader& reader, const YAML::Node& adapter) const = 0;
  // What check-config and start-up check beyond the structure: secrets readable and
  // long enough, certificates loadable. Appends problems; starts nothing.
  virtual void check(const DestinationSection& destination, std::vector<Problem>& problems) const {
    (void)destination;
    (void)problems;
  }
  // The host as it is now (an inbox directory writable): check-config reports it; a
  // running deliverer does not refuse to start for it but retries, then dead-letters,
  // because a mount may come back.
  virtual void check_environment(const DestinationSection& destination, std::vector<Problem>& problems) const {
    (void)destination;
    (void)problems;
  }
  // Directories, listen addresses ... that no other destination may use too.
  virtual std::vector<ExclusiveResource> exclusive(const AdapterSettings& settings) const {
    (void)settings;
    return {};
  }
  // Builds the adapter for a loaded and checked destination.
  virtual Result<OutboundAdapterPtr> create(const DestinationSection& destination) const = 0;
};

namespace outbound_registry {
// Null when no adapter of that type is linked in.
const OutboundAdapterFactory* find(std::string_view type);
// Registered types, sorted (for error messages and --help).
std::vector<std::string> types();
void add(std::unique_ptr<OutboundAdapterFactory> factory);
// Builds the adapter a destination's config names.
Result<OutboundAdapterPtr> create(const DestinationSection& destination);
}  // namespace outbound_registry

template <class Factory>
struct OutboundAdapterRegistrar {
  OutboundAdapterRegistrar() { outbound_registry::add(std::make_unique<Factory>()); }
};

}  // namespace xoev

#define XOEVGATE_OUTBOUND_ADAPTER(Factory) \
  static const ::xoev::OutboundAdapterRegistrar<Factory> xoevgate_outbound_registrar_##Factory {}
