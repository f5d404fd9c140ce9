// Writes one JSON object as text, member by member, with no document tree in between.
// Sealing writes the same few members into two headers for every message; building
// and dumping an nlohmann::json there costs more than the AES-GCM of a 4 KB message.
// Everything that is parsed still goes through nlohmann::json.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace xoev::crypto {

class JsonObjectText {
 public:
  // Appends '{' to out; close() the outermost object when done.
  explicit JsonObjectText(std::string& out);

  JsonObjectText& string(std::string_view name, std::string_view value);  // escaped
  JsonObjectText& null(std::string_view name);
  // A value that already is JSON text (e.g. a nested object written elsewhere).
  JsonObjectText& json(std::string_view name, std::string_view json_text);
  // Members text "a":1,"b":2 written by someone else, spliced in as it is.
  JsonObjectText& members(std::string_view members_text);
  JsonObjectText& open(std::string_view name);  // "name":{ … up to the matching close()
  JsonObjectText& close();

  // False once a name or value was not valid UTF-8 (RFC 8259 §8.1); such bytes are
  // written as U+FFFD, so the text stays JSON, but callers must not use it.
  bool valid() const { return valid_; }

 private:
  void name(std::string_view n);
  void escaped(std::string_view s);

  std::string& out_;
  bool comma_ = false;
  bool valid_ = true;
};

// The members of a JSON object's text without its braces ("{…}" → "…"): what the
// *_members functions splice into a protected header.
std::string_view members_of(std::string_view object_text);

// Length of the valid UTF-8 sequence at the start of s, 0 when there is none
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence_length(std::string_view s);

}  // namespace xoev::crypto
