// `xoevgate dev-keys --config FILE`: creates the demo keys a fresh clone needs for
// `make run` (private keys are never in git). Reads the config with the same loader
// as serve:
//   keys.signing, keys.trusted_gateways         → ES256 pair, kid "gateway-dev"
//   destinations[].adapter.signing_key,
//   keys.trusted_deliverers                     → ES256 pair, kid = file stem (a deliverer's
//                                                 receipt key; its own kid, so it never clashes
//                                                 with the gateway's in the readers' ring)
//   destinations[].encryption_keys,
//   destinations[].adapter.decryption_keys      → ECDH-ES+A256KW P-256 pair, kid = file stem
// X.pub.jwk and X.jwk are one pair. Existing files are left alone; a missing public
// half of an existing private key is derived from it. Idempotent and silent when
// nothing is missing.
#include <filesystem>
#include <iostream>
#include <map>

#include "gateway/cli/command.h"
#include "gateway/config/config.h"
#include "gateway/crypto/jwe.h"
#include "gateway/crypto/jws.h"
#include "gateway/crypto/key_file.h"

namespace {

namespace fs = std::filesystem;
using xoev::Problem;
using xoev::ProblemKind;
using xoev::Result;
using xoev::Status;
using xoev::crypto::Jwk;

constexpr std::string_view kPubSuffix = ".pub.jwk";
constexpr std::string_view kJwkSuffix = ".jwk";
constexpr const char* kDevSigningKid = "gateway-dev";

enum class Role { signing, deliverer_signing, encryption };

struct Pair {
  fs::path private_file, public_file;
  std::string stem;
};

Result<Pair> pair_of(const fs::path& file) {
  const std::string name = file.filename().string();
  std::string stem;
  if (name.size() > kPubSuffix.size() && name.ends_with(kPubSuffix)) stem = name.substr(0, name.size() - kPubSuffix.size());
  else if (name.size() > kJwkSuffix.size() && name.ends_with(kJwkSuffix)) stem = name.substr(0, name.size() - kJwkSuffix.size());
  else return Problem::make(ProblemKind::config_invalid, file.string() + ": key file names must end in .jwk or .pub.jwk");
  return Pair{file.parent_path() / (stem + ".jwk"), file.parent_path() / (stem + ".pub.jwk"), stem};
}

Status make_dir(const fs::path& dir) {
  std::error_code ec;
  if (dir.empty() || fs::exists(dir, ec)) return xoev::ok_status();
  fs::create_directories(dir, ec);
  if (ec) return Problem::make(ProblemKind::io_error, "cannot create " + dir.string() + ": " + ec.message());
  return xoev::ok_status();
}

// Ensures both halves of the pair exist; prints one line when it created something.
Status ensure(const fs::path& file, Role role) {
  auto pair = pair_of(file);
  if (!pair) return std::move(pair).problem();
  std::error_code ec;
  const bool have_private = fs::exists(pair->private_file, ec);
  const bool have_public = fs::exists(pair->public_file, ec);
  if (have_private && have_public) return xoev::ok_status();
  if (auto s = make_dir(pair->private_file.parent_path()); !s) return s;
  if (have_private) {
    auto key = xoev::crypto::load_jwk_file(pair->private_file);
    if (!key) return std::move(key).problem();
    if (auto s = xoev::crypto::write_jwk_file(pair->public_file, *key, false); !s) return s;
    std::cout << "dev-keys: wrote " << pair->public_file.string() << " (public half of " << pair->private_file.string() << ")\n";
    return xoev::ok_status();
  }
  if (have_public)  // a public key of someone else: we cannot invent its private half
    return xoev::ok_status();
  const bool signing = role != Role::encryption;
  const std::string kid = role == Role::signing ? kDevSigningKid : pair->stem;
  const std::string alg(signing ? xoev::crypto::kAlgEs256 : xoev::crypto::kAlgEcdhEsA256kw);
  auto key = Jwk::generate(Jwk::Type::ec_p256, kid, alg);
  if (!key) return std::move(key).problem();
  key->set_use(signing ? "sig" : "enc");
  if (auto s = xoev::crypto::write_jwk_file(pair->private_file, *key, true); !s) return s;
  if (auto s = xoev::crypto::write_jwk_file(pair->public_file, *key, false); !s) return s;
  std::cout << "dev-keys: generated " << alg << " key kid=" << kid << ": " << pair->private_file.string() << ", "
            << pair->public_file.string() << "\n";
  return xoev::ok_status();
}

int run(const std::string& config_file) {
  // The same loader as serve (which leaves key files to the preflight).
  xoev::Config config;
  const auto problems = xoev::read_config(config_file, config);
  if (!problems.empty()) {
    for (const auto& p : problems) xoev::cli::fail(p);
    return 1;
  }
  std::vector<std::pair<fs::path, Role>> wanted;
  if (config.keys.signing) wanted.emplace_back(*config.keys.signing, Role::signing);
  for (const auto& p : config.keys.trusted_gateways) wanted.emplace_back(p, Role::signing);
  for (const auto& p : config.keys.trusted_deliverers) wanted.emplace_back(p, Role::deliverer_signing);
  for (const auto& d : config.destinations) {
    if (d.adapter.signing_key) wanted.emplace_back(*d.adapter.signing_key, Role::deliverer_signing);
    for (const auto& p : d.encryption_keys) wanted.emplace_back(p, Role::encryption);
    for (const auto& p : d.adapter.decryption_keys) wanted.emplace_back(p, Role::encryption);
  }
  // Private halves first; a public file in another directory (keys/public/X.pub.jwk
  // beside keys/private/X.jwk, as compose mounts them) is then derived from its private
  // half instead of becoming a second, unrelated pair with the same kid.
  std::map<std::string, fs::path> private_by_stem;
  for (const auto& [file, role] : wanted) {
    if (file.filename().string().ends_with(kPubSuffix)) continue;
    if (auto s = ensure(file.lexically_normal(), role); !s) return xoev::cli::fail(s.problem());
    if (auto pair = pair_of(file)) private_by_stem.emplace(pair->stem, pair->private_file.lexically_normal());
  }
  for (const auto& [file, role] : wanted) {
    if (!file.filename().string().ends_with(kPubSuffix)) continue;
    auto pair = pair_of(file);
    if (!pair) return xoev::cli::fail(pair.problem());
    std::error_code ec;
    const auto elsewhere = private_by_stem.find(pair->stem);
    if (!fs::exists(pair->private_file, ec) && elsewhere != private_by_stem.end() && !fs::exists(file, ec)) {
      auto key = xoev::crypto::load_jwk_file(elsewhere->second);
      if (!key) return xoev::cli::fail(key.problem());
      if (auto s = make_dir(file.parent_path()); !s) return xoev::cli::fail(s.problem());
      if (auto s = xoev::crypto::write_jwk_file(file, *key, false); !s) return xoev::cli::fail(s.problem());
      std::cout << "dev-keys: wrote " << file.string() << " (public half of " << elsewhere->second.string() << ")\n";
      continue;
    }
    if (auto s = ensure(file.lexically_normal(), role); !s) return xoev::cli::fail(s.problem());
  }
  return 0;
}

XOEVGATE_COMMAND("dev-keys", "create any missing demo key files named in a config (for make run)", [](CLI::App& sub) {
  auto config = std::make_shared<std::string>("config/gateway.yaml");
  sub.add_option("--config", *config, "gateway config (default config/gateway.yaml)");
  return [config] { return run(*config); };
});

}  // namespace
