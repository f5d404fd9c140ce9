// Shell-style glob ("*", "?") over routing fields. Routes are written by
// administrative staff, so the syntax stays that simple on purpose.
#pragma once

#include <string_view>

namespace xoev {

bool glob_match(std::string_view pattern, std::string_view text);

// How specific a pattern is: the number of literal characters. "psw:06414*" beats
// "psw:*" beats "*". Used to choose between routes that both match.
int glob_specificity(std::string_view pattern);

}  // namespace xoev
