#include "gateway/kafka/kafka_connection.h"

#include <string_view>

#include <spdlog/spdlog.h>

#include <array>

namespace xoev {
namespace {

// librdkafka calls this from its own threads; spdlog loggers are thread-safe.
void log_to_spdlog(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  const char* name = rk ? rd_kafka_name(rk) : "rdkafka";
  spdlog::level::level_enum lvl = spdlog::level::debug;
  if (level <= 3)
    lvl = spdlog::level::err;
  else if (level == 4)
    lvl = spdlog::level::warn;
  else if (level <= 6)
    lvl = spdlog::level::info;
  // The mock cluster speaks only old Metadata versions, so every lookup by a client
  // that asks not to auto-create topics warns; that says nothing an operator can act on.
  if (std::string_view(facility) == "AUTOCREATE") lvl = spdlog::level::debug;
  spdlog::log(lvl, "rdkafka {} {}: {}", name, facility, message);
}

Status set_property(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  std::array<char, 512> err{};
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err.data(), err.size()) != RD_KAFKA_CONF_OK)
    return Problem::make(ProblemKind::config_invalid, "kafka property '" + name + "': " + err.data());
  return ok_status();
}

}  // namespace

void route_rdkafka_logs(rd_kafka_conf_t* conf) { rd_kafka_conf_set_log_cb(conf, log_to_spdlog); }

Result<RdKafkaConf> make_rdkafka_conf(const KafkaConnection& connection, const KafkaSettings& defaults,
                                      const KafkaSettings& required) {
  RdKafkaConf conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), log_to_spdlog);
  for (const auto& [name, value] : defaults)
    if (auto s = set_property(conf.get(), name, value); !s) return std::move(s).problem();
  if (connection.bootstrap.empty())
    return Problem::make(ProblemKind::config_invalid, "kafka bootstrap list is empty");
  if (auto s = set_property(conf.get(), "bootstrap.servers", connection.bootstrap); !s) return std::move(s).problem();
  for (const auto& [name, value] : connection.properties)
    if (auto s = set_property(conf.get(), name, value); !s) return std::move(s).problem();
  for (const auto& [name, value] : required)
    if (auto s = set_property(conf.get(), name, value); !s) return std::move(s).problem();
  return conf;
}

Result<RdKafkaHandle> make_rdkafka_handle(rd_kafka_type_t type, RdKafkaConf conf) {
  std::array<char, 512> err{};
  // rd_kafka_new takes the conf only on success.
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err.data(), err.size());
  if (!rk) return Problem::make(ProblemKind::config_invalid, std::string("kafka client: ") + err.data());
  (void)conf.release();
  return RdKafkaHandle(rk);
}

}  // namespace xoev
