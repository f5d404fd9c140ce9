// A JWKS file ({"keys": [...]}, RFC 7517 §5) as a ring of public keys by kid.
#pragma once

#include <filesystem>

#include "gateway/core/result.h"
#include "gateway/crypto/key_ring.h"

namespace xoev::auth {

Result<crypto::KeyRing> load_jwks_file(const std::filesystem::path& file);

}  // namespace xoev::auth
