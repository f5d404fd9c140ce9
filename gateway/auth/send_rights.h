// What a sender may submit: a message must match one of its may_send rules (standard,
// message type, reader; globs as in routes) and its autor must be one it may speak for.
#pragma once

#include "gateway/config/security_config.h"
#include "gateway/core/result.h"
#include "gateway/core/routing_header.h"

namespace xoev::auth {

// ProblemKind::forbidden naming the rule (or the list) that refused.
Status check_may_send(const SenderSection& sender, const RoutingHeader& header);

}  // namespace xoev::auth
