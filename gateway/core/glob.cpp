#include "gateway/core/glob.h"

namespace xoev {

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matcher with single backtrack point: linear for our short patterns
  // and never recursive, so a hostile pattern cannot blow the stack.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

int glob_specificity(std::string_view pattern) {
  int n = 0;
  for (char c : pattern)
    if (c != '*' && c != '?') ++n;
  return n;
}

}  // namespace xoev
