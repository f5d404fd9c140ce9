// The Leitweg-ID routes an electronic invoice to a German public authority (KoSIT,
// "Formatspezifikation Leitweg-ID"): Grobadressierung (2–12 digits), an optional
// Feinadressierung (1–30 letters/digits) and two check digits, joined by hyphens,
// e.g. 04011000-1234512345-06. The check digits follow ISO/IEC 7064 MOD 97-10 over
// the parts before them, with letters counted as A=10 … Z=35.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace xoev::leitweg {

// The two check digits ("06") for the parts before them ("04011000" and
// "1234512345", the latter may be empty); nothing if a part has other characters.
std::optional<std::string> check_digits(std::string_view grob, std::string_view fein);

// Empty if `id` is a valid Leitweg-ID, else a reason a clerk can act on, naming the
// wrong part (and for wrong check digits, the expected ones).
std::string problem_with(std::string_view id);

}  // namespace xoev::leitweg
