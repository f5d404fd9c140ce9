#include "gateway/dlq/dead_letter_query.h"

namespace xoev {

Result<nlohmann::json> answer_dead_letter_query(const KafkaConnection& connection, const Config& config,
                                                const crypto::KeyRing& receipt_signers, const DeadLetterQuery& query,
                                                const DeadLetterProgress& progress) {
  const auto* destination = config.destination(query.destination);
  if (!destination)
    return Problem::make(ProblemKind::not_found, "no destination '" + query.destination.substr(0, 128) + "'");
  if (progress) progress("reading the dead letters of " + destination->id + " …");
  auto letters = read_dead_letters(connection, *destination, receipt_signers);
  if (!letters) return letters.problem();
  if (progress) progress("read " + std::to_string(letters->size()) + " dead letters");

  auto selected = [&](const DeadLetter& l) {
    if (query.message_id && l.message_id != *query.message_id) return false;
    if (query.replay) return query.message_id ? !l.unverified : l.pending();  // replay_dead_letters' rule
    return !query.pending_only || l.pending();
  };
  nlohmann::json out = {{"destination", destination->id}, {"letters", nlohmann::json::array()}};
  size_t chosen = 0;
  for (const auto& l : *letters)
    if (selected(l)) {
      out["letters"].push_back(l.to_json());
      ++chosen;
    }
  if (!query.replay) return out;
  out["dryRun"] = query.dry_run;
  if (query.dry_run) {
    out["wouldReplay"] = chosen;
    return out;
  }
  if (progress) progress("replaying " + std::to_string(chosen) + " dead letters …");
  auto replayed = replay_dead_letters(connection, *destination, *letters, query.message_id, config.gateway.ack_timeout);
  if (!replayed) return replayed.problem();
  if (progress) progress("replayed " + std::to_string(*replayed));
  out["replayed"] = *replayed;
  return out;
}

}  // namespace xoev
