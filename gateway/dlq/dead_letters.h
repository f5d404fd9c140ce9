// Dead letters of a destination: read from xoev.dlq.<id>, judged against the
// message statuses from xoev.receipts, and replayed onto the destination topic
// unchanged (still encrypted, still signed: the signed headers are untouched).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/config/config.h"
#include "gateway/crypto/key_ring.h"
#include "gateway/kafka/consumer.h"
#include "gateway/kafka/kafka_connection.h"
#include "gateway/status/status_store.h"

namespace xoev {

struct DeadLetter {
  ConsumedRecord record;
  std::string message_id;
  std::string reason;
  int attempts = 0;
  std::optional<ReceiptStatus> current;  // from verified receipts on xoev.receipts; nullopt if unknown
  // The record was not verifiably the message it claims (bad signature, another
  // destination's record): it speaks for no message id and is never replayed.
  bool unverified = false;
  std::string origin;  // topic/partition/offset it was dead-lettered from

  // Replay only what is still undelivered: a replayed and then delivered message
  // stays in the DLQ topic (Kafka is append-only) but is not sent again.
  bool pending() const {
    return !unverified && (!current || *current == ReceiptStatus::dead_lettered || *current == ReceiptStatus::rejected);
  }
  nlohmann::json to_json() const;
};

// Reads every dead letter of `destination` and the current status of each.
// `receipt_signers`: the keys whose receipts count (load_receipt_signers).
Result<std::vector<DeadLetter>> read_dead_letters(const KafkaConnection& connection, const DestinationSection& destination,
                                                  const crypto::KeyRing& receipt_signers);

// Produces the dead letters (all pending ones, or only `only_id`) back to the
// destination topic; returns how many were replayed (after the broker acknowledged).
Result<size_t> replay_dead_letters(const KafkaConnection& connection, const DestinationSection& destination,
                                   const std::vector<DeadLetter>& letters, const std::optional<std::string>& only_id,
                                   std::chrono::milliseconds ack_timeout);

}  // namespace xoev
