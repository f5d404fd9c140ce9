// The X-Xoev-Signature value the http adapter and the sender callbacks send:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace xoev {

std::string hmac_signature(std::string_view secret, int64_t unix_seconds, std::string_view body);

}  // namespace xoev
