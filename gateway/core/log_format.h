// How log lines look: `text` (one line, RFC 3339 UTC time with ms and Z, level,
// message, then key=value fields with values made printable) or `json` (one JSON
// object per line with the fixed keys time, level, msg, then the fields; every value
// JSON-escaped). The formatter replaces spdlog's pattern on every sink of the
// default logger, so lines of libraries logging through spdlog look the same.
#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace xoev::logging {

enum class Format { text, json };

// One field of a structured line. Numbers stay numbers in JSON.
using FieldValue = std::variant<std::string, long long, double>;
using Fields = std::vector<std::pair<std::string, FieldValue>>;

std::optional<Format> parse_format(std::string_view name);  // "text" | "json"
// trace, debug, info, warning (or warn), error, critical, off
std::optional<spdlog::level::level_enum> parse_level(std::string_view name);

// The spdlog formatter for `format` (exposed for tests).
std::unique_ptr<spdlog::formatter> make_formatter(Format format);

// Sets the default logger's format and level. Values given on the command line or in
// the environment (--log-format/XOEVGATE_LOG_FORMAT, --log-level/XOEVGATE_LOG_LEVEL)
// win over the config's: main() records them with set_override() before any config
// is read (and applies them at once).
void configure(Format format, spdlog::level::level_enum level);
void set_override(std::optional<Format> format, std::optional<spdlog::level::level_enum> level);
// Applies the config's log section, unless overridden (see above).
void configure_from_config(const std::string& format, const std::string& level);

// A line with fields: `log::event(info, "message accepted", {{"messageId", id}, ...})`.
// The fields reach the formatter of the calling thread (the default logger is
// synchronous), so they never mix with another thread's line.
void event(spdlog::level::level_enum level, std::string_view message, const Fields& fields);

}  // namespace xoev::logging
