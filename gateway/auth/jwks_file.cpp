#include "gateway/auth/jwks_file.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace xoev::auth {

Result<crypto::KeyRing> load_jwks_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return Problem::make(ProblemKind::io_error, "cannot read JWKS file '" + file.string() + "'");
  std::stringstream text;
  text << in.rdbuf();
  const auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (!json.is_object() || !json.contains("keys") || !json["keys"].is_array())
    return Problem::make(ProblemKind::config_invalid, "JWKS file '" + file.string() + "' needs {\"keys\": [...]}");
  crypto::KeyRing ring;
  for (const auto& member : json["keys"]) {
    auto key = crypto::Jwk::from_json(member);
    if (!key) return Problem::make(ProblemKind::config_invalid, "JWKS file '" + file.string() + "': " + key.problem().detail);
    if (key->is_private()) return Problem::make(ProblemKind::config_invalid, "JWKS file '" + file.string() + "' holds a private key");
    if (auto added = ring.add(std::move(key).value()); !added)
      return Problem::make(ProblemKind::config_invalid, "JWKS file '" + file.string() + "': " + added.problem().detail);
  }
  return ring;
}

}  // namespace xoev::auth
