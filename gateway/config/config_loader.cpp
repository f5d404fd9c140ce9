// YAML → Config, every rule checked here so that nothing downstream parses raw config.
#include <librdkafka/rdkafka.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <regex>
#include <set>
#include <system_error>

#include "gateway/config/config.h"
#include "gateway/config/listen_check.h"
#include "gateway/config/outbound_registry.h"
#include "gateway/config/security_config_reader.h"
#include "gateway/config/yaml_reader.h"
#include "gateway/http/url.h"
#include "gateway/kafka/topic_names.h"

namespace xoev {

using config_detail::YamlReader;

const DestinationSection* Config::destination(std::string_view id) const {
  for (const auto& d : destinations)
    if (d.id == id) return &d;
  return nullptr;
}

size_t Config::record_capacity_bytes() const {
  size_t record_limit = 1'000'000;  // librdkafka's message.max.bytes default
  if (const auto it = kafka.properties.find("message.max.bytes"); it != kafka.properties.end()) {
    try {
      record_limit = static_cast<size_t>(std::stoull(it->second));
    } catch (...) {
    }
  }
  // Headers, key, JWE protected header, encrypted key, iv, tag, JWS: well under 16 KiB.
  constexpr size_t kEnvelopeOverhead = 16u << 10;
  return record_limit > kEnvelopeOverhead ? (record_limit - kEnvelopeOverhead) / 4 * 3 : 0;
}

size_t Config::max_body_bytes() const { return std::min(gateway.max_message_bytes, record_capacity_bytes()); }

namespace {

bool valid_id(const std::string& s) {
  static const std::regex re(R"(^[a-z0-9][a-z0-9._-]{0,127}$)");
  return std::regex_match(s, re);
}

bool valid_topic(const std::string& s) {
  static const std::regex re(R"(^[A-Za-z0-9._-]{1,249}$)");
  return std::regex_match(s, re) && s != "." && s != "..";
}

void require_file(YamlReader& r, const YAML::Node& at, const fs::path& p, const std::string& what) {
  std::error_code ec;
  if (!p.empty() && !fs::is_regular_file(p, ec))
    r.error(at, what + " '" + p.string() + "' does not exist (run `xoevgate dev-keys --config FILE` for demo keys)");
}


void read_gateway(YamlReader& r, const YAML::Node& n, GatewaySection& g) {
  if (!n) return;
  if (!r.is_map(n, "gateway")) return;
  std::vector<std::string> keys = {"listen",      "max_message_bytes", "max_head_bytes", "threads",
                                   "ack_timeout", "state_directory"};
  keys.insert(keys.end(), std::begin(config_detail::kSecurityGatewayKeys), std::end(config_detail::kSecurityGatewayKeys));
  r.only_keys(n, keys, "gateway");
  if (n["state_directory"]) g.state_directory = r.path(n, "state_directory", true);
  g.listen = r.str(n, "listen", g.listen);
  g.listen_where = n["listen"] ? r.where(n["listen"]) : r.where(n);
  if (!is_listen_address(g.listen)) r.error(n["listen"], "listen must be HOST:PORT (e.g. 127.0.0.1:8080), got '" + g.listen + "'");
  g.max_message_bytes = static_cast<size_t>(r.integer(n, "max_message_bytes", static_cast<long long>(g.max_message_bytes), 1024, 1LL << 36));
  g.max_head_bytes = static_cast<size_t>(
      r.integer(n, "max_head_bytes", static_cast<long long>(g.max_head_bytes), 4 << 10, 64 << 20));
  g.threads = static_cast<int>(r.integer(n, "threads", g.threads, 1, 64));
  g.ack_timeout = r.millis(n, "ack_timeout", g.ack_timeout);
  if (g.ack_timeout.count() < 100) r.error(n["ack_timeout"], "ack_timeout must be at least 100ms");
}

// Settings the gateway fixes itself so that no operator value can weaken them
// (acks=all, idempotence, manual commits) or that have their own config key.
const std::set<std::string, std::less<>> kGatewayOwnedProperties = {
    "bootstrap.servers", "metadata.broker.list", "group.id", "client.id", "enable.idempotence", "acks",
    "request.required.acks", "enable.auto.commit", "enable.auto.offset.store", "enable.partition.eof",
    "auto.offset.reset", "message.timeout.ms", "delivery.timeout.ms"};

// librdkafka decides what it knows: a property it refuses here would stop `serve`.
bool check_kafka_property(YamlReader& r, const YAML::Node& at, const std::string& name, const std::string& value) {
  if (kGatewayOwnedProperties.count(name)) {
    r.error(at, "kafka.properties." + name + " is set by the gateway itself (bootstrap: for the brokers, "
                "gateway.ack_timeout for timeouts; acks=all, idempotence and manual commits are not negotiable)");
    return false;
  }
  std::unique_ptr<rd_kafka_conf_t, decltype(&rd_kafka_conf_destroy)> conf(rd_kafka_conf_new(), &rd_kafka_conf_destroy);
  char err[512] = {0};
  if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    r.error(at, "kafka.properties." + name + ": " + err);
    return false;
  }
  return true;
}

void read_kafka(YamlReader& r, const YAML::Node& n, KafkaSection& k) {
  if (!n) return;
  if (!r.is_map(n, "kafka")) return;
  r.only_keys(n,
              {"bootstrap", "properties", "embedded_brokers", "partitions", "backlog_bytes_per_partition",
               "backlog_stall", "backlog_wait", "chunk_bytes"},
              "kafka");
  k.bootstrap = r.str(n, "bootstrap", k.bootstrap);
  if (k.bootstrap.empty()) r.error(n["bootstrap"], "bootstrap must be 'embedded' or a list host:port,host:port");
  if (const auto props = n["properties"]; props && !props.IsNull()) {
    if (!props.IsMap()) r.error(props, "kafka.properties must be a mapping of librdkafka properties");
    else
      for (const auto& kv : props) {
        if (!kv.second.IsScalar()) {
          r.error(kv.second, "kafka.properties values must be text");
          continue;
        }
        // Secrets (sasl.password, ssl.key.password ...): `${ENV}` or a `<property>_file: PATH` sibling.
        std::string name = kv.first.as<std::string>();
        std::optional<std::string> value;
        if (name.size() > 5 && name.compare(name.size() - 5, 5, "_file") == 0) {
          name.resize(name.size() - 5);
          if (props[name]) r.error(kv.first, "kafka.properties: give " + name + " or " + name + "_file, not both");
          value = r.file_secret(kv.second, kv.second.Scalar(), "kafka.properties." + name + "_file");
        } else {
          value = r.env_value(kv.second, kv.second.Scalar(), "kafka.properties." + name);
        }
        if (value && check_kafka_property(r, kv.first, name, *value)) k.properties[name] = *value;
      }
  }
  k.embedded_brokers = static_cast<int>(r.integer(n, "embedded_brokers", k.embedded_brokers, 1, 9));
  k.partitions = static_cast<int>(r.integer(n, "partitions", k.partitions, 1, 64));
  // Mock-cluster partitions drop data past ~5 MB; keep clear of that edge.
  k.backlog_bytes_per_partition = static_cast<size_t>(r.integer(
      n, "backlog_bytes_per_partition", k.embedded() ? 3 << 20 : 0, k.embedded() ? 64 << 10 : 0, 4 << 20));
  if (k.embedded() && k.backlog_bytes_per_partition == 0) k.backlog_bytes_per_partition = 3u << 20;
  k.chunk_bytes = static_cast<size_t>(r.integer(n, "chunk_bytes", static_cast<long long>(k.chunk_bytes), 16 << 10, 4 << 20));
  const auto stall = r.millis(n, "backlog_stall", k.backlog_stall);
  if (stall < std::chrono::seconds(1) || stall > std::chrono::hours(24))
    r.error(n["backlog_stall"], "backlog_stall must be between 1s and 24h");
  else
    k.backlog_stall = std::chrono::duration_cast<std::chrono::seconds>(stall);
  const auto wait = r.millis(n, "backlog_wait", k.backlog_wait);
  if (wait < std::chrono::milliseconds(0) || wait > std::chrono::minutes(10))
    r.error(n["backlog_wait"], "backlog_wait must be between 0s and 10m");
  else
    k.backlog_wait = wait;
  // A chunk must fit one record once sealed (base64url: 4/3) and, on a cluster that drops
  // records, leave room for several in the backlog budget.
  Config probe;
  probe.kafka.properties = k.properties;
  if (n["chunk_bytes"] && k.chunk_bytes > probe.record_capacity_bytes())
    r.error(n["chunk_bytes"], "chunk_bytes " + std::to_string(k.chunk_bytes) + " does not fit one Kafka record of " +
                                  "message.max.bytes once sealed (at most " +
                                  std::to_string(probe.record_capacity_bytes()) + ")");
  if (n["chunk_bytes"] && k.backlog_bytes_per_partition > 0 && k.chunk_bytes / 3 * 4 * 2 > k.backlog_bytes_per_partition)
    r.error(n["chunk_bytes"], "chunk_bytes " + std::to_string(k.chunk_bytes) + " is too large for backlog_bytes_per_partition " +
                                  std::to_string(k.backlog_bytes_per_partition) + ": two sealed chunks must fit");
}

void read_log(YamlReader& r, const YAML::Node& n, LogSection& l) {
  if (!n) return;
  if (!r.is_map(n, "log")) return;
  r.only_keys(n, {"format", "level"}, "log");
  // The names gateway/core/log_format.h accepts (spelled here too: the loader needs no spdlog).
  static const std::set<std::string, std::less<>> kFormats = {"text", "json"};
  static const std::set<std::string, std::less<>> kLevels = {"trace", "debug", "info",     "warning",
                                                             "warn",  "error", "critical", "off"};
  l.format = r.str(n, "format", l.format);
  if (!kFormats.count(l.format)) r.error(n["format"], "log.format must be text or json, got '" + l.format + "'");
  l.level = r.str(n, "level", l.level);
  if (!kLevels.count(l.level))
    r.error(n["level"], "log.level must be one of trace, debug, info, warning, error, critical, off; got '" + l.level + "'");
}

void read_keys(YamlReader& r, const YAML::Node& n, KeysSection& k) {
  if (!n) return;
  if (!r.is_map(n, "keys")) return;
  r.only_keys(n, {"signing", "trusted_gateways", "trusted_deliverers"}, "keys");
  k.where = r.where(n);
  // Key files are read by the preflight of the process that holds them: a deliverer's
  // host has no signing key, the gateway's no decryption key.
  if (n["signing"]) k.signing = r.path(n, "signing", true);
  k.trusted_gateways = r.paths(n, "trusted_gateways");
  k.trusted_deliverers = r.paths(n, "trusted_deliverers");
}

// The keys every adapter has; the adapter's factory lists its own.
const std::vector<std::string> kCommonAdapterKeys = {"type",         "decryption_keys", "signing_key",
                                                     "in_process",   "max_attempts",    "initial_backoff",
                                                     "max_backoff",  "max_age",         "state_directory",
                                                     "dedupe_window", "max_group", "chunk_timeout"};

void read_adapter(YamlReader& r, const YAML::Node& n, AdapterSection& a, const std::string& dest,
                  const fs::path& default_state) {
  const std::string where = "destination '" + dest + "' adapter";
  if (!n) {
    r.error_at({r.shown(), 0, 0}, where + " is missing");
    return;
  }
  if (!r.is_map(n, where)) return;
  a.where = r.where(n);
  a.type = r.str(n, "type", "", true);
  const OutboundAdapterFactory* factory = a.type.empty() ? nullptr : outbound_registry::find(a.type);
  if (!a.type.empty() && !factory) {
    std::string list;
    for (const auto& t : outbound_registry::types()) list += (list.empty() ? "" : ", ") + t;
    r.error(n["type"], "adapter type '" + a.type + "' is not available in this build (available: " + list + ")");
  }
  if (n["xslt"])
    r.error(n["xslt"], "xslt transforms are not supported by this version: the Fachverfahren receives the exact "
                       "submitted bytes (remove xslt:)");
  // Unknown keys: the common ones plus the adapter's own; an adapter of unknown type
  // gets only its type reported, not every key it might have had.
  if (factory) {
    std::vector<std::string> allowed = kCommonAdapterKeys;
    for (auto& k : factory->keys()) allowed.push_back(std::move(k));
    allowed.push_back("xslt");  // reported above with a better message
    r.only_keys(n, allowed, where + " (type " + a.type + ")");
    a.settings = factory->parse(r, n);
  }
  a.decryption_keys = r.paths(n, "decryption_keys");
  if (a.decryption_keys.empty())
    r.error(n, where + " needs decryption_keys (the destination's private keys, newest first)");
  if (n["signing_key"]) a.signing_key = r.path(n, "signing_key", true);
  a.in_process = r.boolean(n, "in_process", false);
  a.max_attempts = static_cast<int>(r.integer(n, "max_attempts", a.max_attempts, 1, 1000));
  a.max_group = static_cast<int>(r.integer(n, "max_group", a.max_group, 1, 1024));
  a.chunk_timeout = r.millis(n, "chunk_timeout", a.chunk_timeout);
  if (a.chunk_timeout < std::chrono::seconds(1)) r.error(n["chunk_timeout"], "chunk_timeout must be at least 1s");
  a.initial_backoff = r.millis(n, "initial_backoff", a.initial_backoff);
  a.max_backoff = r.millis(n, "max_backoff", a.max_backoff);
  if (a.initial_backoff.count() < 1) r.error(n["initial_backoff"], "initial_backoff must be at least 1ms");
  if (a.max_backoff < a.initial_backoff) r.error(n["max_backoff"], "max_backoff must not be below initial_backoff");
  a.max_age = r.millis(n, "max_age", a.max_age);
  if (a.max_age < std::chrono::seconds(1)) r.error(n["max_age"], "max_age must be at least 1s");
  a.state_directory = n["state_directory"] ? r.path(n, "state_directory", true) : default_state;
  a.dedupe_window = r.millis(n, "dedupe_window", a.dedupe_window);
  if (a.dedupe_window < std::chrono::hours(1)) r.error(n["dedupe_window"], "dedupe_window must be at least 1h");
  if (a.dedupe_window < a.max_age)
    r.error(n["dedupe_window"], "dedupe_window must cover max_age: a message retried that long must still be "
                                "recognised as delivered");
}

// What two destinations may never share: a topic (each deliverer would take the
// other's messages), an inbox, a mailbox, a listen port. The gateway's own listen
// address takes part too.
void check_exclusive(YamlReader& r, const Config& c) {
  struct Owner {
    std::string who;
    Location where;
    std::string value;
  };
  std::map<std::string, std::vector<Owner>> seen;  // kind → owners
  auto claim = [&](const std::string& kind, const std::string& value, const std::string& who, const Location& where) {
    auto& owners = seen[kind];
    for (const auto& o : owners) {
      const bool clash = kind == kListenResource ? listens_overlap(o.value, value) : o.value == value;
      if (clash) {
        r.error_at(where, who + " uses " + kind + " '" + value + "' which " + o.who + " (line " +
                              std::to_string(o.where.line) + ") uses already");
        return;
      }
    }
    owners.push_back({who, where, value});
  };
  claim(std::string(kListenResource), c.gateway.listen, "gateway.listen", c.gateway.listen_where);
  for (const auto& d : c.destinations) {
    const std::string who = "destination '" + d.id + "'";
    claim("topic", d.topic, who, d.where);
    claim("state file", fs::weakly_canonical(d.adapter.state_directory / (d.id + ".delivered")).string(), who, d.where);
    const auto* f = outbound_registry::find(d.adapter.type);
    if (!f || !d.adapter.settings) continue;
    for (const auto& e : f->exclusive(*d.adapter.settings)) claim(e.kind, e.value, who, d.adapter.where);
  }
}

void read_destinations(YamlReader& r, const YAML::Node& n, std::vector<DestinationSection>& out,
                       const fs::path& default_state) {
  if (!n) return;
  if (!n.IsSequence()) {
    r.error(n, "destinations must be a list");
    return;
  }
  std::set<std::string> ids;
  for (const auto& item : n) {
    if (!r.is_map(item, "a destination")) continue;
    DestinationSection d;
    d.where = r.where(item);
    r.only_keys(item, {"id", "topic", "encryption_keys", "adapter"}, "destination");
    d.id = r.str(item, "id", "", true);
    if (!d.id.empty() && !valid_id(d.id))
      r.error(item["id"], "destination id '" + d.id + "' may only use a-z, 0-9, '.', '_', '-'");
    if (names::is_reserved_destination_id(d.id))
      r.error(item["id"], "destination id '" + d.id + "' is reserved: its consumer group " + names::consumer_group(d.id) +
                              " belongs to the gateway's own services");
    if (!d.id.empty() && !ids.insert(d.id).second) r.error(item["id"], "destination id '" + d.id + "' is used twice");
    d.topic = r.str(item, "topic", names::default_topic(d.id));
    if (names::is_reserved_topic(d.topic))
      r.error(item["topic"], "topic '" + d.topic + "' is reserved by the gateway");
    else if (!valid_topic(d.topic))
      r.error(item["topic"], "topic '" + d.topic + "' is not a valid Kafka topic name (a-z, A-Z, 0-9, '.', '_', '-', "
                             "at most 249 characters)");
    d.encryption_keys = r.paths(item, "encryption_keys");
    if (d.encryption_keys.empty())
      r.error(item, "destination '" + d.id + "' needs encryption_keys (public keys, newest first): "
                    "payloads are never written to Kafka in plaintext");
    read_adapter(r, item["adapter"], d.adapter, d.id, default_state);
    out.push_back(std::move(d));
  }
}

// Callbacks carry message statuses to the sender: TLS, except to this very machine.
bool acceptable_callback_url(const std::string& text, std::string& why) {
  auto url = http::Url::parse(text);
  if (!url) {
    why = url.problem().detail;
    return false;
  }
  if (url->tls()) return true;
  static const std::regex loopback_v4(R"(^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$)");
  if (url->host == "localhost" || url->host == "::1" || std::regex_match(url->host, loopback_v4)) return true;
  why = "callback url must be https:// (plain http only to localhost, 127.x.y.z or [::1])";
  return false;
}

// A region rule is an AGS/ARS prefix at one level of the hierarchy; "06*" is read as
// "06" (the glob form earlier versions used).
bool valid_region_rule(const std::string& rule, std::string& why) {
  if (rule == "*") return true;
  const std::string digits = !rule.empty() && rule.back() == '*' ? rule.substr(0, rule.size() - 1) : rule;
  const bool all_digits =
      !digits.empty() && std::all_of(digits.begin(), digits.end(), [](unsigned char ch) { return std::isdigit(ch); });
  const auto n = digits.size();
  if (all_digits && (n == 2 || n == 3 || n == 5 || n == 8 || n == 9 || n == 12)) return true;
  why = "region '" + rule + "' is not a region key: write 2 digits (Land), 3 (Regierungsbezirk), 5 (Kreis), "
        "8 (AGS of a Gemeinde), 9 (ARS of a Gemeindeverband) or 12 (ARS of a Gemeinde)";
  return false;
}

void read_routing(YamlReader& r, const YAML::Node& n, RoutingSection& out) {
  if (!n || !r.is_map(n, "routing")) return;
  out.where = r.where(n);
  r.only_keys(n, {"region_prefixes", "directory", "prefix_codelist"}, "routing");
  if (const auto p = n["region_prefixes"]; p) {
    if (!p.IsSequence()) {
      r.error(p, "routing.region_prefixes must be a list of DVDV prefixes, e.g. [ags, psw]");
    } else {
      out.region_prefixes.clear();
      for (const auto& item : p) {
        const std::string prefix = item.IsScalar() ? item.Scalar() : std::string();
        if (prefix.empty() || prefix.size() > 16 ||
            !std::all_of(prefix.begin(), prefix.end(), [](unsigned char ch) { return std::isalnum(ch); }))
          r.error(item, "a region prefix is a DVDV prefix such as ags or psw (letters and digits)");
        else
          out.region_prefixes.push_back(prefix);
      }
    }
  }
  out.directory = r.paths(n, "directory");
  if (const auto files = n["directory"]; files && files.IsSequence())
    for (const auto& item : files) {
      if (!item.IsScalar()) continue;  // reported by paths()
      const fs::path file = r.resolve(item.Scalar());
      const auto ext = file.extension().string();
      std::error_code ec;
      if (ext != ".csv" && ext != ".jsonl")
        r.error(item, "directory file '" + item.Scalar() + "' must be .csv or .jsonl (one authority per line)");
      else if (!fs::is_regular_file(file, ec))
        r.error(item, "directory file '" + file.string() + "' does not exist");
    }
  if (n["prefix_codelist"]) {
    out.prefix_codelist = r.path(n, "prefix_codelist", true);
    std::error_code ec;
    if (!fs::is_regular_file(*out.prefix_codelist, ec))
      r.error(n["prefix_codelist"], "prefix code list '" + out.prefix_codelist->string() + "' does not exist");
  }
  if (!out.directory.empty() && !out.prefix_codelist)
    r.error(n, "routing.directory needs routing.prefix_codelist: the DVDV prefix code list the readers are checked "
               "against (shipped as schemas/codelists/dvdv.praefix_51.xml)");
}

void read_routes(YamlReader& r, const YAML::Node& n, Config& c) {
  if (!n) return;
  if (!n.IsSequence()) {
    r.error(n, "routes must be a list");
    return;
  }
  std::set<std::string> names;
  for (const auto& item : n) {
    if (!r.is_map(item, "a route")) continue;
    RouteSection route;
    route.where = r.where(item);
    r.only_keys(item, {"name", "match", "destination", "priority", "callback"}, "route");
    if (const auto cb = item["callback"]; cb && r.is_map(cb, "callback")) {
      r.only_keys(cb, {"url", "hmac_secret_file", "hmac_secret"}, "callback");
      route.callback_url = r.str(cb, "url", "", true);
      if (std::string why; !route.callback_url.empty() && !acceptable_callback_url(route.callback_url, why))
        r.error(cb["url"], why);
      if (cb["hmac_secret"]) {
        // `${ENV}` (or, not recommended, the secret itself); the file form stays the default.
        if (cb["hmac_secret_file"]) r.error(cb, "callback: give hmac_secret or hmac_secret_file, not both");
        route.callback_secret = r.env_value(cb["hmac_secret"], r.str(cb, "hmac_secret", ""), "callback.hmac_secret")
                                    .value_or("");
      } else {
        route.callback_secret_file = r.path(cb, "hmac_secret_file", true);
        require_file(r, cb["hmac_secret_file"], route.callback_secret_file, "callback secret");
      }
    }
    route.name = r.str(item, "name", "", true);
    if (!route.name.empty() && !names.insert(route.name).second)
      r.error(item["name"], "route name '" + route.name + "' is used twice");
    route.destination = r.str(item, "destination", "", true);
    if (!route.destination.empty() && !c.destination(route.destination))
      r.error(item["destination"], "route '" + route.name + "' names destination '" + route.destination +
                                       "', which is not defined under destinations");
    route.priority = static_cast<int>(r.integer(item, "priority", 0, -1000, 1000));
    const YAML::Node m = item["match"];
    if (!m) {
      r.error(item, "route '" + route.name + "' needs a match (use message_type: \"*\" to match everything)");
    } else if (r.is_map(m, "match")) {
      r.only_keys(m, {"standard", "message_type", "reader", "author", "region", "service"}, "match");
      route.match.standard = r.str(m, "standard", "*");
      route.match.message_type = r.str(m, "message_type", "*");
      route.match.reader = r.str(m, "reader", "*");
      route.match.author = r.str(m, "author", "*");
      route.match.region = r.str(m, "region", "*");
      if (std::string why; !valid_region_rule(route.match.region, why)) r.error(m["region"], why);
      route.match.service = r.str(m, "service", "*");
    }
    c.routes.push_back(std::move(route));
  }
  // Two routes with the same patterns and priority could never be told apart.
  for (size_t i = 0; i < c.routes.size(); ++i)
    for (size_t j = i + 1; j < c.routes.size(); ++j) {
      const auto& a = c.routes[i];
      const auto& b = c.routes[j];
      if (a.priority == b.priority && a.match.standard == b.match.standard &&
          a.match.message_type == b.match.message_type && a.match.reader == b.match.reader &&
          a.match.author == b.match.author && a.match.region == b.match.region && a.match.service == b.match.service &&
          a.destination != b.destination)
        r.error_at(b.where, "route '" + b.name + "' has the same match as route '" + a.name +
                                "' (line " + std::to_string(a.where.line) + ") but another destination; give one a priority");
    }
}

void read_standards(YamlReader& r, const YAML::Node& n, std::vector<StandardSection>& out) {
  if (!n) return;
  if (!n.IsSequence()) {
    r.error(n, "standards must be a list");
    return;
  }
  for (const auto& item : n) {
    if (!r.is_map(item, "a standard")) continue;
    StandardSection s;
    s.where = r.where(item);
    r.only_keys(item, {"name", "version", "namespace", "root", "namespaces", "fields", "schema"}, "standard");
    s.name = r.str(item, "name", "", true);
    s.version = r.str(item, "version", "");
    s.root_namespace = r.str(item, "namespace", "", true);
    s.root_element = r.str(item, "root", "", true);
    if (const auto ns = item["namespaces"]; ns && !ns.IsNull()) {
      if (!ns.IsMap()) r.error(ns, "namespaces must map prefixes to namespace URIs");
      else
        for (const auto& kv : ns) s.namespaces[kv.first.as<std::string>()] = kv.second.as<std::string>("");
    }
    const YAML::Node f = item["fields"];
    if (!f) {
      r.error(item, "standard '" + s.name + "' needs fields: {id, type, reader} as XPath expressions");
    } else if (r.is_map(f, "fields")) {
      r.only_keys(f, {"id", "type", "reader", "author"}, "fields");
      s.id_xpath = r.str(f, "id", "", true);
      s.type_xpath = r.str(f, "type", "", true);
      s.reader_xpath = r.str(f, "reader", "", true);
      s.author_xpath = r.str(f, "author", "");
    }
    if (item["schema"]) {
      s.schema = r.path(item, "schema", true);
      require_file(r, item["schema"], *s.schema, "schema");
    }
    out.push_back(std::move(s));
  }
}

std::vector<Problem> read(const fs::path& shown, Config& c) {
  const fs::path file = fs::absolute(shown).lexically_normal();
  YamlReader r(file, shown.string());
  c.file = file;
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    r.error_at({r.shown(), 0, 0}, "cannot read the file");
    return std::move(r.problems());
  } catch (const YAML::Exception& e) {
    r.error_at({r.shown(), e.mark.line + 1, e.mark.column + 1}, "not valid YAML: " + e.msg);
    return std::move(r.problems());
  }
  try {
    r.no_duplicate_keys(root);
    if (!root.IsMap()) {
      r.error_at({r.shown(), 1, 0}, "the configuration must be a mapping with gateway:, kafka:, destinations:, routes:");
      return std::move(r.problems());
    }
    std::vector<std::string> top_keys = {"gateway", "kafka", "schemas", "keys", "destinations", "routes", "standards",
                                         "routing", "log"};
    top_keys.insert(top_keys.end(), std::begin(config_detail::kSecurityTopLevelKeys),
                    std::end(config_detail::kSecurityTopLevelKeys));
    r.only_keys(root, top_keys, "the top level");
    read_log(r, root["log"], c.log);
    c.gateway.state_directory = r.resolve("state");
    read_gateway(r, root["gateway"], c.gateway);
    config_detail::read_security(r, root, c.gateway.listen, c.security);
    read_kafka(r, root["kafka"], c.kafka);
    if (const auto s = root["schemas"]; s) {
      if (r.is_map(s, "schemas")) {
        r.only_keys(s, {"catalog"}, "schemas");
        c.schema_catalog = r.path(s, "catalog", true);
        require_file(r, s["catalog"], *c.schema_catalog, "schema catalog");
      }
    }
    read_keys(r, root["keys"], c.keys);
    if (!c.keys.signing)
      r.error_at({r.shown(), 0, 0}, "keys.signing is required: the gateway signs every message it forwards");
    read_destinations(r, root["destinations"], c.destinations, c.gateway.state_directory);
    read_routes(r, root["routes"], c);
    read_routing(r, root["routing"], c.routing);
    read_standards(r, root["standards"], c.standards);
    if (c.destinations.empty()) r.error_at({r.shown(), 0, 0}, "no destinations are defined");
    if (c.routes.empty() && c.routing.directory.empty())
      r.error_at({r.shown(), 0, 0}, "no routes are defined (neither routes: nor routing.directory)");
    check_exclusive(r, c);
  } catch (const YAML::Exception& e) {
    r.error_at({r.shown(), e.mark.line + 1, 0}, std::string("unexpected value: ") + e.what());
  }
  return std::move(r.problems());
}

}  // namespace

std::vector<Problem> read_config(const fs::path& file, Config& config) { return read(file, config); }

std::vector<Problem> check_config(const fs::path& file) {
  Config c;
  return read(file, c);
}

Result<Config> load_config(const fs::path& file) {
  Config c;
  auto problems = read(file, c);
  if (!problems.empty()) {
    Problem first = problems.front();
    if (problems.size() > 1)
      first.detail += " (and " + std::to_string(problems.size() - 1) + " more; run `xoevgate check-config " +
                      file.string() + "`)";
    return first;
  }
  return c;
}

}  // namespace xoev
