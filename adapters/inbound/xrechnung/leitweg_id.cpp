#include "adapters/inbound/xrechnung/leitweg_id.h"

#include <cctype>
#include <vector>

namespace xoev::leitweg {
namespace {

bool all_digits(std::string_view s) {
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

bool all_alnum(std::string_view s) {
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

// Remainder mod 97 of the decimal number written by `digits`, fed piecewise so the
// number may be arbitrarily long (a Leitweg-ID maps to up to ~80 digits).
int mod97_feed(int remainder, std::string_view digits) {
  for (char d : digits) remainder = (remainder * 10 + (d - '0')) % 97;
  return remainder;
}

int mod97_of_parts(std::string_view grob, std::string_view fein) {
  int r = mod97_feed(0, grob);
  for (char c : fein) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isdigit(u)) {
      r = mod97_feed(r, std::string_view(&c, 1));
    } else {
      const std::string value = std::to_string(std::toupper(u) - 'A' + 10);  // A=10 … Z=35
      r = mod97_feed(r, value);
    }
  }
  return r;
}

std::string quoted(std::string_view s) { return std::string("\"").append(s).append("\""); }

}  // namespace

std::optional<std::string> check_digits(std::string_view grob, std::string_view fein) {
  if (grob.empty() || !all_digits(grob) || !all_alnum(fein)) return std::nullopt;
  for (char c : fein)
    if (static_cast<unsigned char>(c) > 127) return std::nullopt;
  const int r = mod97_feed(mod97_of_parts(grob, fein), "00");
  const int check = 98 - r;
  // Two digits, zero-padded (written without string inserts: GCC 12's -Wrestrict
  // misreads those in Release builds).
  return std::string{static_cast<char>('0' + check / 10), static_cast<char>('0' + check % 10)};
}

std::string problem_with(std::string_view id) {
  const std::string example = "a Leitweg-ID looks like 04011000-1234512345-06 (Grobadressierung-Feinadressierung-"
                              "Prüfziffer; the Feinadressierung is optional)";
  if (id.empty()) return "the BuyerReference is empty; " + example;
  if (id.size() > 46)
    return "the Leitweg-ID " + quoted(id) + " has " + std::to_string(id.size()) +
           " characters, at most 46 are allowed; " + example;
  const auto parts = split(id, '-');
  if (parts.size() < 2 || parts.size() > 3)
    return "the BuyerReference " + quoted(id) + " is not a Leitweg-ID: it must have 2 or 3 parts separated by '-', " +
           "it has " + std::to_string(parts.size()) + "; " + example;
  const std::string_view grob = parts.front();
  const std::string_view fein = parts.size() == 3 ? parts[1] : std::string_view{};
  const std::string_view check = parts.back();
  if (grob.size() < 2 || grob.size() > 12 || !all_digits(grob))
    return "the Grobadressierung " + quoted(grob) + " of the Leitweg-ID " + quoted(id) +
           " must consist of 2 to 12 digits; " + example;
  if (parts.size() == 3 && (fein.empty() || fein.size() > 30 || !all_alnum(fein) ||
                            !check_digits(grob, fein).has_value()))
    return "the Feinadressierung " + quoted(fein) + " of the Leitweg-ID " + quoted(id) +
           " must consist of 1 to 30 letters (A-Z) or digits; " + example;
  if (check.size() != 2 || !all_digits(check))
    return "the check digits " + quoted(check) + " of the Leitweg-ID " + quoted(id) + " must be exactly two digits";
  const auto expected = check_digits(grob, fein);
  if (!expected) return "the Leitweg-ID " + quoted(id) + " contains characters other than digits and letters";
  if (*expected != check) {
    const std::string prefix(id.substr(0, id.size() - check.size()));
    return "the check digits of the Leitweg-ID " + quoted(id) + " are wrong: for " + quoted(prefix.substr(0, prefix.size() - 1)) +
           " they must be " + quoted(*expected) + " (ISO 7064 MOD 97-10), so the Leitweg-ID would be " +
           quoted(prefix + *expected) + " — please check the BuyerReference with the invoice recipient";
  }
  return {};
}

}  // namespace xoev::leitweg
