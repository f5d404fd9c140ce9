// An outbound adapter whose target is another gateway implements this besides
// OutboundAdapter. For such an adapter, Delivered means "handed on": the delivery loop
// publishes `forwarded` (not `delivered`), remembers the id in a ForwardedLedger, and a
// HandOverFollower asks the next hop for the final status until it has one.
// The delivery loop finds the interface by dynamic_cast, so the core names no adapter.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "gateway/core/result.h"
#include "gateway/status/receipt.h"

namespace xoev {

// What the next hop says about a message now.
struct HopStatus {
  // delivered, rejected or dead-lettered; nullopt while the message is underway there.
  std::optional<ReceiptStatus> final_status;
  std::string detail;  // for the local receipt: names the hop, never a secret
};

struct FollowUpTiming {
  std::chrono::milliseconds first{2000};                      // after the hand-over
  std::chrono::milliseconds max_interval{std::chrono::minutes(5)};  // backoff cap
  std::chrono::milliseconds give_up_after{std::chrono::hours(24 * 7)};
};

class HandOver {
 public:
  virtual ~HandOver() = default;
  // A Problem when the hop could not be asked (down, refused): asked again later.
  virtual Result<HopStatus> ask_status(const std::string& message_id) = 0;
  virtual FollowUpTiming follow_up_timing() const = 0;
};

}  // namespace xoev
