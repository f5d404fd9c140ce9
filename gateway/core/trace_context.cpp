#include "gateway/core/trace_context.h"

#include <random>

namespace xoev {
namespace {

bool lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool all_zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

}  // namespace

bool is_valid_traceparent(std::string_view v) {
  // version(2) - trace-id(32) - parent-id(16) - flags(2)
  if (v.size() != 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  const auto version = v.substr(0, 2), trace_id = v.substr(3, 32), parent_id = v.substr(36, 16), flags = v.substr(53, 2);
  return version == "00" && lower_hex(trace_id) && !all_zero(trace_id) && lower_hex(parent_id) && !all_zero(parent_id) &&
         lower_hex(flags);
}

std::string new_traceparent() {
  static const char* hex = "0123456789abcdef";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out = "00-";
  auto append = [&](int digits) {
    std::string part;
    do {
      part.clear();
      for (int i = 0; i < digits; i += 16) {
        uint64_t r = rng();
        for (int j = 0; j < 16 && i + j < digits; ++j, r >>= 4) part += hex[r & 15];
      }
    } while (all_zero(part));  // all zeros is the one invalid id
    out += part;
  };
  append(32);
  out += '-';
  append(16);
  return out + "-01";
}

std::string traceparent_or_new(std::string_view incoming) {
  return is_valid_traceparent(incoming) ? std::string(incoming) : new_traceparent();
}

}  // namespace xoev
