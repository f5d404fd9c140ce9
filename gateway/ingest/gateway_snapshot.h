// Everything a request needs that comes from configuration, built and checked as a
// whole, then shared read-only. Reload builds a new snapshot and swaps the pointer;
// requests in flight finish on the snapshot they started with, so nothing is lost.
#pragma once

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
  static Result<std::shared_ptr<const GatewaySnapshot>> build(Config config);

  const Config& config() const { return config_; }
  const Router& router() const { return *router_; }
  const MessageInspector& inspector() const { return *inspector_; }
  const crypto::Jwk& signing_key() const { return *signing_key_; }
  const crypto::KeyRing& encryption_keys(const std::string& destination) const;

 private:
  GatewaySnapshot() = default;
  Config config_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<MessageInspector> inspector_;
  std::unique_ptr<crypto::Jwk> signing_key_;
  std::map<std::string, crypto::KeyRing> encryption_keys_;
};

// The inbound adapters for a config, in the registry's priority order (configured
// standards first: an administrator's rule beats a built-in).
Result<std::vector<InboundAdapterPtr>> make_inbound_adapters(const Config& config);
// The schema catalog for a config, or null when the config names none.
Result<std::shared_ptr<const SchemaCatalog>> load_schema_catalog(const Config& config);

}  // namespace xoev
