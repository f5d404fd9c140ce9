// The version of a loaded routing table: "<generation>-<fingerprint>", e.g. "7-3fa9c2e1".
// The generation counts the tables this process has loaded (1 at start, +1 per accepted
// reload), so versions of one gateway order in time. The fingerprint is 8 hex digits of
// a hash over what decides a route — routes (name, match, destination, priority),
// region prefixes, destinations (id, topic, adapter type) and every directory entry —
// so two gateways (or two reloads) with the same table show the same fingerprint, and a
// receipt names the exact rules that routed its message.
#pragma once

#include <cstdint>
#include <string>

#include "gateway/config/config.h"
#include "gateway/route/routing_directory.h"

namespace xoev {

// 8 lower-case hex digits (64-bit FNV-1a, folded to 32 bits).
std::string routing_fingerprint(const Config& config, const RoutingDirectory& directory);

std::string routing_version(std::uint64_t generation, const std::string& fingerprint);

}  // namespace xoev
