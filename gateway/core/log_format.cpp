#include "gateway/core/log_format.h"

#include <spdlog/spdlog.h>


#include <nlohmann/json.hpp>

#include "gateway/core/clock.h"
#include "gateway/core/routing_fields.h"

namespace xoev::logging {
namespace {

// The fields of the line being logged on this thread (set only inside event()).
thread_local const Fields* current_fields = nullptr;

std::optional<Format> format_override;
std::optional<spdlog::level::level_enum> level_override;

std::string level_name(spdlog::level::level_enum l) {
  const auto v = spdlog::level::to_string_view(l);
  return std::string(v.data(), v.size());
}

// Invalid UTF-8 becomes U+FFFD instead of an exception.
std::string json_text(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(Format format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    std::string line = format_ == Format::json ? json_line(msg, text) : text_line(msg, text);
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<LineFormatter>(format_); }

 private:
  static std::string json_line(const spdlog::details::log_msg& msg, std::string_view text) {
    // Built by hand so the fixed keys come first, in this order.
    // Appended piece by piece: GCC 12 reports a false -Wrestrict for "literal" + string.
    std::string out = "{\"time\":\"";
    out.append(rfc3339(msg.time)).append("\",\"level\":\"").append(level_name(msg.level)).append("\",\"msg\":");
    out.append(json_text(std::string(text)));
    if (current_fields)
      for (const auto& [key, value] : *current_fields) {
        out.append(",").append(json_text(key)).append(":");
        std::visit([&](const auto& v) { out += json_text(v); }, value);
      }
    return out + "}";
  }

  static std::string text_line(const spdlog::details::log_msg& msg, std::string_view text) {
    std::string out = rfc3339(msg.time) + " " + level_name(msg.level) + " " + std::string(text);
    if (current_fields)
      for (const auto& [key, value] : *current_fields) {
        out.append(" ").append(key).append("=");
        if (const auto* s = std::get_if<std::string>(&value)) out += printable(*s, 256);
        else if (const auto* i = std::get_if<long long>(&value)) out += std::to_string(*i);
        else out += json_text(std::get<double>(value));
      }
    return out;
  }

  Format format_;
};

}  // namespace

std::optional<Format> parse_format(std::string_view name) {
  if (name == "text") return Format::text;
  if (name == "json") return Format::json;
  return std::nullopt;
}

std::optional<spdlog::level::level_enum> parse_level(std::string_view name) {
  const auto l = spdlog::level::from_str(std::string(name));
  // from_str answers "off" for anything it does not know.
  if (l == spdlog::level::off && name != "off") return std::nullopt;
  return l;
}

std::unique_ptr<spdlog::formatter> make_formatter(Format format) { return std::make_unique<LineFormatter>(format); }

void configure(Format format, spdlog::level::level_enum level) {
  spdlog::set_formatter(make_formatter(format_override.value_or(format)));
  spdlog::set_level(level_override.value_or(level));
}

void set_override(std::optional<Format> format, std::optional<spdlog::level::level_enum> level) {
  format_override = format;
  level_override = level;
  configure(Format::text, spdlog::level::info);
}

void configure_from_config(const std::string& format, const std::string& level) {
  configure(parse_format(format).value_or(Format::text), parse_level(level).value_or(spdlog::level::info));
}

void event(spdlog::level::level_enum level, std::string_view message, const Fields& fields) {
  current_fields = &fields;
  spdlog::log(level, "{}", message);
  current_fields = nullptr;
}

}  // namespace xoev::logging
