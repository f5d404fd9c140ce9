// Header lists as plain name/value pairs: the order and repetitions a peer sent are
// kept, and lookups ignore case as HTTP field names require (RFC 9110 §5.1).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xoev::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

bool iequals(std::string_view a, std::string_view b);

// Value of the first field called `name` (any case); empty if there is none.
std::string header_value(const HeaderList& headers, std::string_view name);

}  // namespace xoev::http
