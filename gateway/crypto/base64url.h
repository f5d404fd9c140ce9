// base64url without padding (RFC 7515 §2), the encoding of every JOSE part.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace xoev::crypto {

std::string base64url_encode(std::string_view bytes);
// Appends the encoding to `out` (no temporary: large JWE parts are written once).
void base64url_append(std::string& out, std::string_view bytes);
// Length of the encoding of n bytes.
std::size_t base64url_length(std::size_t n);

// Strict: no padding, no whitespace, only [A-Za-z0-9_-], and the unused low bits of
// the last character must be zero, so every byte string has exactly one encoding
// (a flipped bit in the text can never decode to the same bytes).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace xoev::crypto
