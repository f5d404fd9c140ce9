// Every Kafka topic and consumer-group name the gateway uses, spelled once. Config
// checks (reserved topics, colliding groups), the runtime, the deliverers, the DLQ
// commands and the compose topic setup all take their names from here.
#pragma once

#include <string>
#include <string_view>

namespace xoev::names {

inline constexpr std::string_view kReceiptsTopic = "xoev.receipts";
inline constexpr std::string_view kDlqTopicPrefix = "xoev.dlq.";
inline constexpr std::string_view kDestinationTopicPrefix = "xoev.";   // default topic: xoev.<destination>
inline constexpr std::string_view kGroupPrefix = "xoevgate.";
// Consumer groups of the gateway's own services; no destination may be named like them.
inline constexpr std::string_view kCallbacksService = "callbacks";

inline std::string default_topic(std::string_view destination_id) {
  return std::string(kDestinationTopicPrefix) + std::string(destination_id);
}
inline std::string dlq_topic(std::string_view destination_id) {
  return std::string(kDlqTopicPrefix) + std::string(destination_id);
}
// The consumer group of a destination's deliverers: xoevgate.<id>.
inline std::string consumer_group(std::string_view destination_id) {
  return std::string(kGroupPrefix) + std::string(destination_id);
}
inline std::string callbacks_group() { return consumer_group(kCallbacksService); }
// True for names that collide with a topic the gateway itself owns.
inline bool is_reserved_topic(std::string_view topic) {
  return topic == kReceiptsTopic || topic.rfind(kDlqTopicPrefix, 0) == 0;
}
// Destination ids that would share a consumer group with one of the gateway's services.
inline bool is_reserved_destination_id(std::string_view id) { return id == kCallbacksService; }

}  // namespace xoev::names
