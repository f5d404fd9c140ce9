#include "gateway/crypto/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace xoev::crypto {
namespace {

// nlohmann::json is the independent reader: what JsonObjectText writes must parse to
// exactly the strings that went in.
TEST(JsonObjectText, EscapesWhatJsonRequiresAndParsesBackExactly) {
  const std::string nasty = std::string("quote\" backslash\\ tab\t nl\n cr\r bs\b ff\f nul") + '\0' +
                            "\x01\x1f del\x7f slash/ umlaut äöüß € 𝄞 </script>";
  std::string text;
  JsonObjectText j(text);
  j.string("plain", "Erika").string("nasty", nasty).string("key \"quoted\"", "v").null("nothing");
  j.open("nested").string("a", "1").open("deeper").close().string("b", "2").close();
  j.json("raw", "[1,2,3]").members("\"spliced\":true,\"n\":7").close();
  ASSERT_TRUE(j.valid());

  auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(parsed.is_discarded()) << text;
  EXPECT_EQ(parsed["plain"], "Erika");
  EXPECT_EQ(parsed["nasty"], nasty);
  EXPECT_EQ(parsed["key \"quoted\""], "v");
  EXPECT_TRUE(parsed["nothing"].is_null());
  EXPECT_EQ(parsed["nested"], (nlohmann::json{{"a", "1"}, {"deeper", nlohmann::json::object()}, {"b", "2"}}));
  EXPECT_EQ(parsed["raw"], (nlohmann::json{1, 2, 3}));
  EXPECT_EQ(parsed["spliced"], true);
  EXPECT_EQ(parsed["n"], 7);
  EXPECT_EQ(parsed.size(), 8u);
  // Control characters never appear raw in the text.
  for (char c : text) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << text;
}

TEST(JsonObjectText, EmptyObjectsAndEmptySplicesStayValid) {
  std::string text;
  JsonObjectText(text).members("").close();
  EXPECT_EQ(text, "{}");
  text.clear();
  JsonObjectText j(text);
  j.members("").string("a", "").members("").close();
  EXPECT_EQ(nlohmann::json::parse(text), (nlohmann::json{{"a", ""}}));
}

TEST(MembersOf, StripsTheBracesOfAnObjectOnly) {
  EXPECT_EQ(members_of(R"({"a":1,"b":{"c":2}})"), R"("a":1,"b":{"c":2})");
  EXPECT_EQ(members_of("{}"), "");
  EXPECT_EQ(members_of("[1]"), "");
  EXPECT_EQ(members_of(""), "");
}

TEST(JsonObjectText, InvalidUtf8IsFlaggedAndReplaced) {
  for (std::string bad : {"\xC3", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF", "a\x80z"}) {
    std::string text;
    JsonObjectText j(text);
    j.string("v", bad).close();
    EXPECT_FALSE(j.valid()) << "accepted bytes that are not UTF-8";
    auto parsed = nlohmann::json::parse(text, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << "the text must still be JSON";
    EXPECT_NE(parsed["v"].get<std::string>().find("\xEF\xBF\xBD"), std::string::npos);
  }
}

TEST(Utf8SequenceLength, AcceptsEveryWellFormedBoundary) {
  EXPECT_EQ(utf8_sequence_length("a"), 1u);
  EXPECT_EQ(utf8_sequence_length("\xC2\x80"), 2u);          // U+0080
  EXPECT_EQ(utf8_sequence_length("\xDF\xBF"), 2u);          // U+07FF
  EXPECT_EQ(utf8_sequence_length("\xE0\xA0\x80"), 3u);      // U+0800
  EXPECT_EQ(utf8_sequence_length("\xED\x9F\xBF"), 3u);      // U+D7FF
  EXPECT_EQ(utf8_sequence_length("\xEE\x80\x80"), 3u);      // U+E000
  EXPECT_EQ(utf8_sequence_length("\xF0\x90\x80\x80"), 4u);  // U+10000
  EXPECT_EQ(utf8_sequence_length("\xF4\x8F\xBF\xBF"), 4u);  // U+10FFFF
  EXPECT_EQ(utf8_sequence_length("\xE2\x82"), 0u);          // truncated
  EXPECT_EQ(utf8_sequence_length("\xC1\xBF"), 0u);          // overlong
  EXPECT_EQ(utf8_sequence_length(""), 0u);
}

}  // namespace
}  // namespace xoev::crypto
