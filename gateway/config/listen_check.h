// HOST:PORT listen addresses as written in config: well-formed, and whether two of
// them would fight over one port (the gateway's API and an XTA endpoint, say).
#pragma once

#include <string>
#include <string_view>

namespace xoev {

// The ExclusiveResource kind adapters use for their listen addresses.
inline constexpr std::string_view kListenResource = "listen address";

bool is_listen_address(const std::string& text);
// True when both bind the same non-zero port on the same host, or either binds it on
// every interface (0.0.0.0, ::, empty host).
bool listens_overlap(const std::string& a, const std::string& b);

}  // namespace xoev
