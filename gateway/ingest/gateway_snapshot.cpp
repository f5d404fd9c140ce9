#include "gateway/ingest/gateway_snapshot.h"

#include "gateway/config/inbound_registry.h"
#include "gateway/core/clock.h"
#include "gateway/crypto/key_file.h"
#include "gateway/route/routing_version.h"

namespace xoev {

Result<std::vector<InboundAdapterPtr>> make_inbound_adapters(const Config& config) {
  return inbound_registry::make_all(config);
}

Result<std::shared_ptr<const SchemaCatalog>> load_schema_catalog(const Config& config) {
  if (!config.schema_catalog) return std::shared_ptr<const SchemaCatalog>{};
  return SchemaCatalog::load(*config.schema_catalog, config.standards);
}

Result<std::shared_ptr<const GatewaySnapshot>> GatewaySnapshot::build(Config config, std::uint64_t generation) {
  std::shared_ptr<GatewaySnapshot> s(new GatewaySnapshot());
  s->config_ = std::move(config);
  const Config& c = s->config_;

  auto adapters = make_inbound_adapters(c);
  if (!adapters) return adapters.problem();
  auto catalog = load_schema_catalog(c);
  if (!catalog) return catalog.problem();
  s->inspector_ = std::make_unique<MessageInspector>(std::move(adapters).value(), std::move(catalog).value(),
                                                     c.max_body_bytes());
  auto router = Router::build(s->config_);
  if (!router) return router.problem();
  s->router_ = std::move(router).value();
  s->routing_version_ = xoev::routing_version(generation, routing_fingerprint(c, s->router_->directory()));
  s->loaded_at_ = rfc3339_now();

  auto signing = crypto::load_jwk_file(*c.keys.signing);
  if (!signing) return signing.problem();
  if (!signing->is_private())
    return Problem::make(ProblemKind::config_invalid, "keys.signing '" + c.keys.signing->string() + "' is a public key; the gateway needs its private signing key");
  s->signing_key_ = std::make_unique<crypto::Jwk>(std::move(signing).value());
  for (const auto& d : c.destinations) {
    auto ring = crypto::load_key_ring(d.encryption_keys);
    if (!ring) return Problem(ring.problem()).at(d.where);
    s->encryption_keys_.emplace(d.id, std::move(ring).value());
  }
  return std::shared_ptr<const GatewaySnapshot>(std::move(s));
}

const crypto::KeyRing& GatewaySnapshot::encryption_keys(const std::string& destination) const {
  return encryption_keys_.at(destination);
}

}  // namespace xoev
