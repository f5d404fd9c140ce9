// Asks the next gateway about every message this destination handed on (the
// ForwardedLedger's entries) until it reports a final status, then publishes that as
// this deliverer's own signed receipt, with a detail that names the hop, so the
// sender's GET /v1/messages/{id} at the origin shows accepted → forwarded → delivered.
// Each message is asked about after FollowUpTiming::first, then with doubling
// intervals up to max_interval; after give_up_after it is dropped with a warning (its
// status stays `forwarded`). Runs on its own thread next to the delivery loop's.
#pragma once

#include <chrono>
#include <stop_token>
#include <string>
#include <unordered_map>

#include "gateway/delivery/forwarded_ledger.h"
#include "gateway/delivery/hand_over.h"
#include "gateway/status/receipt_publisher.h"

namespace xoev {

class HandOverFollower {
 public:
  // All three must outlive the follower.
  HandOverFollower(std::string destination_id, HandOver& hop, ForwardedLedger& ledger, ReceiptPublisher& receipts)
      : destination_id_(std::move(destination_id)), hop_(hop), ledger_(ledger), receipts_(receipts) {}

  // Follows up until a stop is requested.
  void run(const std::stop_token& stop);
  // One pass over the entries whose time has come; returns how many got their final
  // receipt. Ends early when `stop` is requested (each question may take a timeout).
  size_t follow_up_due(std::chrono::steady_clock::time_point now, const std::stop_token& stop = {});

 private:
  struct Schedule {
    std::chrono::steady_clock::time_point next;
    std::chrono::milliseconds interval;
  };
  bool publish_and_wait(const Receipt& r);

  std::string destination_id_;
  HandOver& hop_;
  ForwardedLedger& ledger_;
  ReceiptPublisher& receipts_;
  std::unordered_map<std::string, Schedule> schedule_;
};

}  // namespace xoev
