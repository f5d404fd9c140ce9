// Everything a request needs that comes from configuration, built and checked as a
// whole, then shared read-only. Reload builds a new snapshot and swaps the pointer;
// requests in flight finish on the snapshot they started with, so nothing is lost.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "gateway/config/config.h"
#include "gateway/crypto/jwk.h"
#include "gateway/crypto/key_ring.h"
#include "gateway/ingest/message_inspector.h"
#include "gateway/route/router.h"

namespace xoev {

class GatewaySnapshot {
 public:
  // Loads schemas (compiled once) and keys; any failure keeps the old snapshot.
  // `generation` numbers the tables a process loads (routing_version.h).
  static Result<std::shared_ptr<const GatewaySnapshot>> build(Config config, std::uint64_t generation = 1);

  const Config& config() const { return config_; }
  const Router& router() const { return *router_; }
  const MessageInspector& inspector() const { return *inspector_; }
  const crypto::Jwk& signing_key() const { return *signing_key_; }
  const crypto::KeyRing& encryption_keys(const std::string& destination) const;
  // "<generation>-<fingerprint>": recorded in every receipt of a message routed here.
  const std::string& routing_version() const { return routing_version_; }
  const std::string& loaded_at() const { return loaded_at_; }  // RFC 3339

 private:
  GatewaySnapshot() = default;
  Config config_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<MessageInspector> inspector_;
  std::unique_ptr<crypto::Jwk> signing_key_;
  std::map<std::string, crypto::KeyRing> encryption_keys_;
  std::string routing_version_;
  std::string loaded_at_;
};

// The inbound adapters for a config, in the registry's priority order (configured
// standards first: an administrator's rule beats a built-in).
Result<std::vector<InboundAdapterPtr>> make_inbound_adapters(const Config& config);
// The schema catalog for a config, or null when the config names none.
Result<std::shared_ptr<const SchemaCatalog>> load_schema_catalog(const Config& config);

}  // namespace xoev
