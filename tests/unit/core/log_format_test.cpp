#include "gateway/core/log_format.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <algorithm>
#include <regex>
#include <sstream>

namespace xoev::logging {
namespace {

// Runs `body` with the default logger writing to a string in `format`.
template <class Body>
std::string captured(Format format, Body body) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("capture", sink);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  spdlog::set_formatter(make_formatter(format));
  body();
  spdlog::set_default_logger(previous);
  return out.str();
}

const std::regex kUtcMillis("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$");

TEST(LogFormat, JsonLinesHaveFixedKeysFirstAndEscapeEverything) {
  const std::string text = captured(Format::json, [] {
    event(spdlog::level::info, "message \"accepted\"\n",
          {{"messageId", std::string("a\"b\\c\nd\x01")}, {"bytes", 42LL}, {"durationMs", 1.5},
           {"bad", std::string("\xff\xfe")}});
    spdlog::warn("plain {}", "line");
  });
  std::istringstream lines(text);
  std::string first, second, extra;
  ASSERT_TRUE(std::getline(lines, first));
  ASSERT_TRUE(std::getline(lines, second));
  EXPECT_FALSE(std::getline(lines, extra)) << "one line per event: " << text;
  EXPECT_EQ(first.rfind("{\"time\":\"", 0), 0u) << first;
  EXPECT_NE(first.find("\",\"level\":\"info\",\"msg\":"), std::string::npos) << first;
  const auto j = nlohmann::json::parse(first);
  EXPECT_TRUE(std::regex_match(j["time"].get<std::string>(), kUtcMillis)) << j["time"];
  EXPECT_EQ(j["msg"], "message \"accepted\"\n");
  EXPECT_EQ(j["messageId"], "a\"b\\c\nd\x01");
  EXPECT_EQ(j["bytes"], 42);
  EXPECT_EQ(j["durationMs"], 1.5);
  EXPECT_EQ(j["bad"], "\xef\xbf\xbd\xef\xbf\xbd") << "invalid UTF-8 is replaced, not thrown";
  const auto k = nlohmann::json::parse(second);
  EXPECT_EQ(k["level"], "warning");
  EXPECT_EQ(k["msg"], "plain line");
  EXPECT_FALSE(k.contains("messageId")) << "fields belong to their own line only";
}

TEST(LogFormat, TextLinesAreUtcAndValuesCannotForgeALine) {
  const std::string text = captured(Format::text, [] {
    event(spdlog::level::info, "message delivered",
          {{"messageId", std::string("x\n2026-01-01T00:00:00.000Z error forged")}, {"attempt", 2LL}});
  });
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex("^(\\S+) info message delivered messageId=(.*) attempt=2\n$"))) << text;
  EXPECT_TRUE(std::regex_match(m[1].str(), kUtcMillis)) << m[1];
}

TEST(LogFormat, NamesOfFormatsAndLevels) {
  EXPECT_EQ(parse_format("json"), Format::json);
  EXPECT_EQ(parse_format("text"), Format::text);
  EXPECT_FALSE(parse_format("xml"));
  EXPECT_EQ(parse_level("warning"), spdlog::level::warn);
  EXPECT_EQ(parse_level("off"), spdlog::level::off);
  EXPECT_FALSE(parse_level("loud"));
}

}  // namespace
}  // namespace xoev::logging
