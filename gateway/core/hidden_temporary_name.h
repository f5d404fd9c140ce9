// The name a file is written under before it is renamed to `name` in the same
// directory: hidden (a poller of *.xml never sees it), unique to this process and call.
#pragma once

#include <string>
#include <string_view>

namespace xoev {

// ".<name>.<pid>.<random>.tmp". Creating it with O_EXCL still guards against a clash.
std::string hidden_temporary_name(std::string_view name);

}  // namespace xoev
