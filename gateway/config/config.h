// The gateway's configuration as typed structs. Loaded once from YAML, fully
// validated (unknown keys, types, references, files) before anything runs; every
// error names file:line. Paths are resolved relative to the config file.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/problem.h"
#include "gateway/core/result.h"
#include "gateway/config/security_config.h"

namespace xoev {

namespace fs = std::filesystem;

struct GatewaySection {
  std::string listen = "127.0.0.1:8080";
  Location listen_where;
  // The largest submission; bodies above kafka.chunk_bytes are streamed as chunk records.
  size_t max_message_bytes = size_t{2} << 30;
  // A streamed body's routing head (nachrichtenkopf) must be complete within this many
  // bytes: what arrives before it is routed is held in memory, so this bounds that.
  size_t max_head_bytes = size_t{1} << 20;
  int threads = 2;                                  // HTTP I/O threads
  std::chrono::milliseconds ack_timeout{10000};     // broker acknowledgement deadline → 503
  fs::path state_directory;                         // deliverers' ledgers; default <config dir>/state
};

struct KafkaSection {
  std::string bootstrap = "embedded";               // or "host:port,host:port"
  std::map<std::string, std::string> properties;    // passed to librdkafka as is
  int embedded_brokers = 3;
  int partitions = 3;                               // for topics the embedded cluster creates
  // librdkafka's mock cluster (embedded, or `xoevgate dev-kafka`) keeps ~5 MB per
  // partition and silently drops older records. Undelivered bytes per partition stay
  // below this, else 503 backlog-full. Default: 3 MiB when embedded; 0 for other
  // clusters means "3 MiB once the cluster is identified as a mock cluster (dev-kafka),
  // none for a real one" (gateway/runtime/kafka_runtime.h).
  size_t backlog_bytes_per_partition = 0;
  // A message larger than this is produced as chunk records of this many plaintext bytes
  // (README "Large messages"); smaller ones stay one record.
  size_t chunk_bytes = 256u << 10;
  // A streamed upload waiting for room in that backlog waits as long as the deliverer
  // drains the topic; after this long without progress it gets 503 backlog-full.
  std::chrono::seconds backlog_stall{60};
  // A message of one record that does not fit that backlog waits this long at most for
  // the deliverer to make room (holding its request) before it gets 503 backlog-full;
  // 0 answers 503 at once.
  std::chrono::milliseconds backlog_wait{5000};
  bool embedded() const { return bootstrap == "embedded"; }
};

struct KeysSection {
  std::optional<fs::path> signing;                  // gateway's private signing JWK
  std::vector<fs::path> trusted_gateways;           // public JWKs adapters accept
  // Public JWKs of deliverers whose receipts (status) readers accept, besides the
  // gateways' own (CONTRACTS.md §3: readers apply only verified receipts).
  std::vector<fs::path> trusted_deliverers;
  Location where;                                   // the keys: mapping
};

// An adapter's own settings (directory, url, listen ...), typed by the adapter that
// parsed them. Core code never looks inside: it hands them back to the adapter's factory.
struct AdapterSettings {
  virtual ~AdapterSettings() = default;
};

// What every outbound adapter has: the delivery loop's knobs. The keys an adapter
// adds are parsed by that adapter (gateway/config/outbound_registry.h) into `settings`.
struct AdapterSection {
  std::string type;                                 // a registered outbound adapter: file | http | xta ...
  std::vector<fs::path> decryption_keys;            // private JWKs held by the adapter
  // The deliverer's private ES256/EdDSA key that signs its receipts; default:
  // keys.signing when that file exists on the deliverer's host (in-process deliverers).
  std::optional<fs::path> signing_key;
  bool in_process = false;
  int max_attempts = 8;
  // Records the deliverer hands to the adapter at once (group commit); 1 = one at a time.
  int max_group = 64;
  // A chunked message without progress for this long is discarded (receipt: failed).
  std::chrono::milliseconds chunk_timeout{std::chrono::minutes(15)};
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{60000};
  std::chrono::milliseconds max_age{std::chrono::hours(24)};  // older undelivered messages go to the DLQ
  fs::path state_directory;                         // delivered-ids ledger; default gateway.state_directory
  std::chrono::milliseconds dedupe_window{std::chrono::hours(24 * 30)};
  std::shared_ptr<const AdapterSettings> settings;  // the adapter's own, typed; never null after loading
  Location where;                                   // the adapter: mapping

  // The adapter's settings as its own type (the factory that parsed them asks).
  template <class T>
  const T& as() const {
    return dynamic_cast<const T&>(*settings);
  }
};

struct DestinationSection {
  std::string id;
  std::string topic;
  std::vector<fs::path> encryption_keys;            // newest first
  AdapterSection adapter;
  Location where;
};

struct RouteMatch {
  std::string standard = "*";
  std::string message_type = "*";                   // glob over code or name
  std::string reader = "*";                         // glob over praefix:kennung
  std::string author = "*";
  std::string region = "*";                         // ARS/AGS prefix: 2, 3, 5 (Land, RB, Kreis), 8 (AGS), 9, 12 (ARS) digits
  std::string service = "*";                        // glob over DVDV service / Leika id
};

struct RouteSection {
  std::string name;
  RouteMatch match;
  std::string destination;
  int priority = 0;                                 // explicit tie-breaker, higher wins
  std::string callback_url;                         // optional: receipts POSTed to the sender
  fs::path callback_secret_file;                    // HMAC-SHA256 key for the callback signature
  std::string callback_secret;                      // or the key itself (callback.hmac_secret: ${ENV})
  Location where;
};

// A standard defined by configuration: XPath rules instead of code.
struct StandardSection {
  std::string name;
  std::string version;                              // optional; matches the root's version attribute
  std::string root_namespace;
  std::string root_element;
  std::map<std::string, std::string> namespaces;   // prefix → URI for the XPaths
  std::string id_xpath;
  std::string type_xpath;
  std::string reader_xpath;
  std::string author_xpath;                         // optional
  std::optional<fs::path> schema;                   // XSD; optional when the catalog has it
  Location where;
};

// How readers map to regions, and the directory files that map readers to destinations
// (gateway/route/routing_directory.h reads them).
struct RoutingSection {
  // Prefixes whose kennung is an AGS/ARS (Meldebehörde, Standesamt), plus Leitweg-IDs,
  // whose Grobadressierung is the ARS. Other readers carry no region.
  std::vector<std::string> region_prefixes{"ags", "psw", "leitweg"};
  std::vector<fs::path> directory;                  // CSV or JSON Lines files, one authority per line
  std::optional<fs::path> prefix_codelist;          // DVDV prefix code list (genericode); required with directory
  Location where;
};

// log: {format: text|json, level: info}; --log-format/--log-level and the environment
// (XOEVGATE_LOG_FORMAT, XOEVGATE_LOG_LEVEL) win over it (gateway/core/log_format.h).
struct LogSection {
  std::string format = "text";
  std::string level = "info";
};

struct Config {
  fs::path file;
  GatewaySection gateway;
  KafkaSection kafka;
  std::optional<fs::path> schema_catalog;
  KeysSection keys;
  std::vector<DestinationSection> destinations;
  std::vector<RouteSection> routes;
  std::vector<StandardSection> standards;
  RoutingSection routing;
  LogSection log;
  SecuritySection security;                         // TLS, senders, admins, audit (security_config.h)

  const DestinationSection* destination(std::string_view id) const;
  // The largest body one Kafka record can carry once sealed (JWE base64url is 4/3 of
  // the plaintext, plus protected header, signature and record headers), under the
  // producer's message.max.bytes (librdkafka's default 1,000,000, or
  // kafka.properties). Bodies above it are refused at the door with 413, never
  // answered 503 for a record the broker could never take.
  size_t record_capacity_bytes() const;
  // What the HTTP API accepts: the smaller of gateway.max_message_bytes and that.
  size_t max_body_bytes() const;
};

// Structure, types, references and cross-checks (unique topics, inboxes, ports,
// reserved names, librdkafka properties); every error as FILE:LINE. Key files and
// secrets are read by gateway/preflight for the role of the process (a deliverer's
// host holds no signing key, the gateway's no decryption key).
Result<Config> load_config(const fs::path& file);
// Same checks, returning every error (for check-config); `config` gets what was read.
std::vector<Problem> read_config(const fs::path& file, Config& config);
std::vector<Problem> check_config(const fs::path& file);

}  // namespace xoev
