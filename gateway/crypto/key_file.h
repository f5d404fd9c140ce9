// JWK files on disk. Private keys are written with mode 0600 and refused on load when
// the group or others may read them (like ssh does), so a leaked-by-permission key
// is noticed at start-up instead of silently used.
#pragma once

#include <filesystem>
#include <vector>

#include "gateway/core/result.h"
#include "gateway/crypto/jwk.h"
#include "gateway/crypto/key_ring.h"

namespace xoev::crypto {

// Reads one JWK. A file holding a private key ("d") must have (mode & 077) == 0.
// Problems carry the file name as location.
Result<Jwk> load_jwk_file(const std::filesystem::path& path);

// Loads every file into one ring in the given order (newest first). When a key has
// no "kid" the file stem is used, so `keys/standesamt-2026.pub.jwk` gets kid
// "standesamt-2026".
Result<KeyRing> load_key_ring(const std::vector<std::filesystem::path>& files);

// Writes the key: the private form with mode 0600, the public form with 0644.
// Never overwrites an existing file (O_EXCL); the parent directory must exist.
Status write_jwk_file(const std::filesystem::path& path, const Jwk& key, bool with_private);

}  // namespace xoev::crypto
