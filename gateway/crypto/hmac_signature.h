// The X-Xoev-Signature value the http adapter and the sender callbacks send:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>".
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "gateway/core/result.h"

namespace xoev {

std::string hmac_signature(std::string_view secret, int64_t unix_seconds, std::string_view body);
// The same over a file's bytes, read in pieces (large messages).
Result<std::string> hmac_signature_of_file(std::string_view secret, int64_t unix_seconds,
                                           const std::filesystem::path& body_file);

}  // namespace xoev
