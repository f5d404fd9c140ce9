#include "gateway/crypto/base64url.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace xoev::crypto {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// 0..63 for alphabet characters, 0x80 marks everything else, so OR-ing four lookups
// detects a foreign character with one test per group.
constexpr std::array<uint8_t, 256> make_reverse() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = 0x80;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<uint8_t>(i);
  return table;
}
constexpr auto kReverse = make_reverse();

// The two characters of every 12-bit value: three input bytes become two lookups
// instead of four (an 8 KB table that stays in L1 while a message is encoded).
constexpr std::array<char, 8192> make_pairs() {
  std::array<char, 8192> table{};
  for (std::size_t v = 0; v < 4096; ++v) {
    table[2 * v] = kAlphabet[v >> 6];
    table[2 * v + 1] = kAlphabet[v & 63];
  }
  return table;
}
constexpr auto kPairs = make_pairs();

}  // namespace

// Written for throughput (messages up to 16 MiB pass through here twice): fixed-size
// output, no per-character appends.
std::size_t base64url_length(std::size_t n) { return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1); }

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  base64url_append(out, bytes);
  return out;
}

void base64url_append(std::string& out, std::string_view bytes) {
  const std::size_t full = bytes.size() / 3, rest = bytes.size() % 3;
  const std::size_t start = out.size();
  out.resize(start + base64url_length(bytes.size()));
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  char* o = out.data() + start;
  for (std::size_t g = 0; g < full; ++g, in += 3, o += 4) {
    const uint32_t v = (uint32_t{in[0]} << 16) | (uint32_t{in[1]} << 8) | in[2];
    std::memcpy(o, &kPairs[2 * (v >> 12)], 2);
    std::memcpy(o + 2, &kPairs[2 * (v & 0xFFF)], 2);
  }
  if (rest != 0) {
    const uint32_t v = (uint32_t{in[0]} << 16) | (rest == 2 ? uint32_t{in[1]} << 8 : 0);
    o[0] = kAlphabet[v >> 18];
    o[1] = kAlphabet[(v >> 12) & 63];
    if (rest == 2) o[2] = kAlphabet[(v >> 6) & 63];
  }
}

std::optional<std::string> base64url_decode(std::string_view text) {
  const std::size_t full = text.size() / 4, rest = text.size() % 4;
  if (rest == 1) return std::nullopt;
  std::string out(full * 3 + (rest == 0 ? 0 : rest - 1), '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  for (std::size_t g = 0; g < full; ++g, in += 4, o += 3) {
    const uint8_t a = kReverse[in[0]], b = kReverse[in[1]], c = kReverse[in[2]], d = kReverse[in[3]];
    if ((a | b | c | d) & 0x80) return std::nullopt;
    const uint32_t v = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6) | d;
    o[0] = static_cast<unsigned char>(v >> 16);
    o[1] = static_cast<unsigned char>(v >> 8);
    o[2] = static_cast<unsigned char>(v);
  }
  if (rest != 0) {
    const uint8_t a = kReverse[in[0]], b = kReverse[in[1]], c = rest == 3 ? kReverse[in[2]] : 0;
    if ((a | b | c) & 0x80) return std::nullopt;
    // The unused low bits of the last character must be zero (canonical encoding).
    if (rest == 2 ? (b & 0x0F) != 0 : (c & 0x03) != 0) return std::nullopt;
    o[0] = static_cast<unsigned char>((a << 2) | (b >> 4));
    if (rest == 3) o[1] = static_cast<unsigned char>(((b & 0x0F) << 4) | (c >> 2));
  }
  return out;
}

}  // namespace xoev::crypto
