// Where and how to reach Kafka: the bootstrap list plus the operator's librdkafka
// properties (security.protocol, sasl.*, ssl.* ...), passed through as is.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/core/result.h"

namespace xoev {

struct KafkaConnection {
  std::string bootstrap;
  std::map<std::string, std::string> properties;
};

struct RdKafkaConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using RdKafkaConf = std::unique_ptr<rd_kafka_conf_t, RdKafkaConfDeleter>;

struct RdKafkaDeleter {
  // A consumer handle used only for lookups (never subscribed) skips the consumer
  // close on destroy: that close can wait without end for an unreachable coordinator.
  bool lookups_only = false;
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_destroy_flags(rk, lookups_only ? RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE : 0);
  }
};
using RdKafkaHandle = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

using KafkaSettings = std::vector<std::pair<std::string, std::string>>;

// Builds a librdkafka configuration in three layers, later ones winning:
//   1. `defaults`: what the component prefers but an operator may tune (linger.ms ...);
//   2. the connection: bootstrap.servers and every operator property, as is;
//   3. `required`: what the component's guarantees rest on (enable.idempotence, acks,
//      enable.auto.commit ...), so a stray property cannot silently weaken them.
// librdkafka's own log lines go to spdlog (logger "rdkafka"), never to raw stderr.
// A property librdkafka rejects → Problem config_invalid naming it.
Result<RdKafkaConf> make_rdkafka_conf(const KafkaConnection& connection, const KafkaSettings& defaults = {},
                                      const KafkaSettings& required = {});

// Sends librdkafka's log lines of clients built from `conf` to spdlog.
void route_rdkafka_logs(rd_kafka_conf_t* conf);

// Creates a client handle of `type` from `conf` (which it consumes).
Result<RdKafkaHandle> make_rdkafka_handle(rd_kafka_type_t type, RdKafkaConf conf);

}  // namespace xoev
