#include "gateway/preflight/preflight.h"

#include <algorithm>

#include "gateway/config/outbound_registry.h"
#include "gateway/core/clock.h"
#include "gateway/crypto/envelope_seal.h"
#include "gateway/crypto/key_file.h"
#include "gateway/ingest/gateway_snapshot.h"
#include "gateway/route/router.h"

namespace xoev {
namespace {

Problem at(Problem p, const Location& where, const std::string& what) {
  // The key file's own message, but located where the config names the file.
  const std::string file = p.location && !p.location->file.empty() ? " (" + p.location->file + ")" : "";
  p.detail = what + file + ": " + p.detail;
  p.kind = ProblemKind::config_invalid;
  return std::move(p).at(where);
}

Problem problem(const Location& where, const std::string& detail) {
  return Problem::make(ProblemKind::config_invalid, detail).at(where);
}

// A record as the gateway would write it, to run seal and open for real: the
// checks below use the code paths of the running system, so they cannot drift.
Envelope probe_record(const DestinationSection& d) {
  Envelope env;
  env.topic = d.topic;
  env.key = "00000000-0000-4000-8000-000000000000";
  env.set(header::message_id, env.key);
  env.set(header::message_type, "preflight");
  env.set(header::standard, "preflight");
  env.set(header::sender, "preflight:0");
  env.set(header::recipient, "preflight:0");
  env.set(header::destination, d.id);
  env.set(header::accepted_at, rfc3339_now());
  env.set(header::content_type, "application/xml");
  env.value = "<preflight/>";
  return env;
}

struct Keys {
  std::optional<crypto::Jwk> signing;
  std::optional<crypto::KeyRing> trusted;
};

Keys check_gateway_keys(const Config& c, const PreflightScope& scope, std::vector<Problem>& out) {
  Keys k;
  if (scope.gateway && c.keys.signing) {
    auto signing = crypto::load_jwk_file(*c.keys.signing);
    if (!signing) out.push_back(at(signing.problem(), c.keys.where, "keys.signing"));
    else if (!signing->is_private())
      out.push_back(problem(c.keys.where, "keys.signing '" + c.keys.signing->string() +
                                              "' is a public key; the gateway needs its private signing key"));
    else k.signing = std::move(signing).value();
  }
  const bool any_deliverer = scope.all_deliverers || !scope.deliverers.empty();
  if (any_deliverer) {
    auto trusted = crypto::load_key_ring(c.keys.trusted_gateways);
    if (!trusted) out.push_back(at(trusted.problem(), c.keys.where, "keys.trusted_gateways"));
    else if (trusted->empty())
      out.push_back(problem(c.keys.where, "keys.trusted_gateways is empty: a deliverer could verify no message"));
    else k.trusted = std::move(trusted).value();
  }
  return k;
}

void check_destination(const DestinationSection& d, const PreflightScope& scope, const Keys& keys,
                       std::vector<Problem>& out) {
  std::optional<crypto::KeyRing> encryption;
  if (auto ring = crypto::load_key_ring(d.encryption_keys); !ring)
    out.push_back(at(ring.problem(), d.where, "destination '" + d.id + "' encryption_keys"));
  else if (std::any_of(ring->keys().begin(), ring->keys().end(), [](const crypto::Jwk& k) { return k.is_private(); }))
    out.push_back(problem(d.where, "destination '" + d.id + "' encryption_keys must be public keys (*.pub.jwk): the "
                                   "gateway never holds a destination's private key"));
  else encryption = std::move(ring).value();

  // Seal as the gateway would: catches a signing key that cannot sign (an ECDH key)
  // and an encryption key that cannot encrypt (a signing key).
  std::optional<Envelope> sealed;
  if (encryption && keys.signing) {
    Envelope env = probe_record(d);
    if (auto s = crypto::seal(env, *encryption, *keys.signing); !s)
      out.push_back(at(s.problem(), d.where, "destination '" + d.id + "': the gateway cannot seal a message for it"));
    else sealed = std::move(env);
  }
  if (!scope.delivers(d.id)) return;

  const auto* factory = outbound_registry::find(d.adapter.type);
  if (factory && d.adapter.settings) {
    factory->check(d, out);
    if (scope.environment) factory->check_environment(d, out);
  }

  auto decryption = crypto::load_key_ring(d.adapter.decryption_keys);
  if (!decryption) {
    out.push_back(at(decryption.problem(), d.adapter.where, "destination '" + d.id + "' decryption_keys"));
    return;
  }
  for (const auto& k : decryption->keys())
    if (!k.is_private())
      out.push_back(problem(d.adapter.where, "destination '" + d.id + "' decryption key kid=" + k.kid() +
                                                 " is a public key; the adapter needs the private key (*.jwk)"));
  if (!encryption || !keys.trusted) return;
  // Open as the deliverer would: the newest encryption key must be the public half of
  // one of the adapter's decryption keys, and the gateway's signature must verify.
  if (sealed) {
    if (auto opened = crypto::open(*sealed, *keys.trusted, *decryption); !opened)
      out.push_back(problem(d.adapter.where, "destination '" + d.id + "': a message sealed by this gateway could not "
                                                 "be opened by its adapter (" + opened.problem().detail +
                                                 "); encryption_keys[0] must be the public half of a decryption key, "
                                                 "and the signing key's public half must be in keys.trusted_gateways"));
    return;
  }
  // No signing key on this host (a deliverer elsewhere): check the key pair alone.
  auto throwaway = crypto::Jwk::generate(crypto::Jwk::Type::ec_p256, "preflight", "ES256");
  if (!throwaway) return;
  crypto::KeyRing own;
  (void)own.add(throwaway->public_key());
  Envelope env = probe_record(d);
  if (auto s = crypto::seal(env, *encryption, *throwaway); !s) return;  // reported by the gateway's side
  if (auto opened = crypto::open(env, own, *decryption); !opened)
    out.push_back(problem(d.adapter.where, "destination '" + d.id + "': encryption_keys[0] is not the public half of "
                                               "any of its decryption_keys (" + opened.problem().detail + ")"));
}

}  // namespace

PreflightScope PreflightScope::serve(const Config& config) {
  PreflightScope s;
  s.snapshot = false;  // serve builds its snapshot right after, with the same checks
  s.environment = false;
  for (const auto& d : config.destinations)
    if (d.adapter.in_process) s.deliverers.push_back(d.id);
  return s;
}

PreflightScope PreflightScope::deliver(const std::string& destination) {
  return {false, false, {destination}, false, false};
}

bool PreflightScope::delivers(const std::string& destination) const {
  return all_deliverers || std::find(deliverers.begin(), deliverers.end(), destination) != deliverers.end();
}

std::vector<Problem> preflight(const Config& config, const PreflightScope& scope) {
  std::vector<Problem> out;
  const Keys keys = check_gateway_keys(config, scope, out);
  for (const auto& d : config.destinations)
    if (scope.gateway || scope.delivers(d.id)) check_destination(d, scope, keys, out);
  // Every bad line of the directory files, not only the first (the snapshot's), and
  // whatever else is wrong: they are independent of keys.
  bool directory_ok = true;
  if (scope.gateway && scope.snapshot && !config.routing.directory.empty()) {
    const auto before = out.size();
    auto directory = RoutingDirectory::load(config, out);
    for (auto& p : Router(config, directory).ambiguities()) out.push_back(std::move(p));
    directory_ok = out.size() == before;
  }
  if (scope.gateway && scope.snapshot && out.empty() && directory_ok) {
    // Schemas, XPaths, inbound adapters: exactly what serve builds.
    if (auto snapshot = GatewaySnapshot::build(config); !snapshot) out.push_back(snapshot.problem());
  }
  return out;
}

Status preflight_status(const Config& config, const PreflightScope& scope) {
  auto problems = preflight(config, scope);
  if (problems.empty()) return ok_status();
  Problem first = problems.front();
  if (problems.size() > 1)
    first.detail += " (and " + std::to_string(problems.size() - 1) + " more; run `xoevgate check-config " +
                    config.file.string() + "`)";
  return first;
}

}  // namespace xoev
