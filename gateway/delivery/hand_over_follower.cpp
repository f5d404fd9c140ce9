#include "gateway/delivery/hand_over_follower.h"

#include <spdlog/spdlog.h>

#include <future>
#include <unordered_set>

#include "gateway/core/clock.h"
#include "gateway/kafka/consumer_service.h"

namespace xoev {

void HandOverFollower::run(const std::stop_token& stop) {
  do {
    follow_up_due(std::chrono::steady_clock::now(), stop);
  } while (sleep_unless_stopped(stop, std::chrono::milliseconds(200)));
}

bool HandOverFollower::publish_and_wait(const Receipt& r) {
  auto done = std::make_shared<std::promise<Status>>();
  auto result = done->get_future();
  receipts_.publish(r, [done](Status s) { done->set_value(std::move(s)); });
  return result.get().ok();
}

size_t HandOverFollower::follow_up_due(std::chrono::steady_clock::time_point now, const std::stop_token& stop) {
  const FollowUpTiming timing = hop_.follow_up_timing();
  const auto entries = ledger_.outstanding();
  std::unordered_set<std::string> live;
  size_t finished = 0;
  const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
  for (const auto& e : entries) {
    if (stop.stop_requested()) return finished;  // the schedule stays as it is
    live.insert(e.message_id);
    // New to this process: due `first` after the hand-over (at once for entries older than that).
    const auto since = std::chrono::milliseconds(std::max<int64_t>(0, wall_ms - e.handed_over_ms));
    auto [it, added] = schedule_.try_emplace(e.message_id, Schedule{now + std::max(timing.first - since,
                                                                                   std::chrono::milliseconds(0)),
                                                                    timing.first});
    Schedule& s = it->second;
    if (now < s.next) continue;
    if (since > timing.give_up_after) {
      spdlog::warn("destination '{}': no final status for message {} from the next gateway after {} h; no longer asking",
                   destination_id_, e.message_id, std::chrono::duration_cast<std::chrono::hours>(since).count());
      if (ledger_.remove(e.message_id)) schedule_.erase(it);
      continue;
    }
    s.next = now + s.interval;
    s.interval = std::min(s.interval * 2, timing.max_interval);
    auto asked = hop_.ask_status(e.message_id);
    if (!asked) {
      spdlog::info("destination '{}': status of message {} not available yet: {}", destination_id_, e.message_id,
                   asked.problem().detail);
      continue;
    }
    if (!asked->final_status) continue;
    Receipt r;
    r.message_id = e.message_id;
    r.destination = destination_id_;
    r.status = *asked->final_status;
    r.at = rfc3339_now();
    r.detail = asked->detail;
    r.history = e.history;
    r.route = e.route;
    r.traceparent = e.traceparent;
    // Published before the entry goes: a crash in between asks (and publishes) once more.
    if (!publish_and_wait(r)) {
      spdlog::warn("destination '{}': receipt {} of message {} not stored; asking again later", destination_id_,
                   to_string(r.status), e.message_id);
      continue;
    }
    if (auto removed = ledger_.remove(e.message_id); !removed)
      spdlog::error("destination '{}': {}", destination_id_, removed.problem().detail);
    schedule_.erase(e.message_id);
    ++finished;
  }
  std::erase_if(schedule_, [&](const auto& kv) { return !live.count(kv.first); });
  return finished;
}

}  // namespace xoev
