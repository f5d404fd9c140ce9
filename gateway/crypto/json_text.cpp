#include "gateway/crypto/json_text.h"

namespace xoev::crypto {

std::size_t utf8_sequence_length(std::string_view s) {
  if (s.empty()) return 0;
  const auto b = [&](std::size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t lead = b(0);
  if (lead < 0x80) return 1;
  std::size_t n = 0;
  uint8_t low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) n = 2;
  else if (lead == 0xE0) n = 3, low = 0xA0;                 // no overlong 3-byte forms
  else if (lead == 0xED) n = 3, high = 0x9F;                // no surrogates
  else if (lead >= 0xE1 && lead <= 0xEF) n = 3;
  else if (lead == 0xF0) n = 4, low = 0x90;                 // no overlong 4-byte forms
  else if (lead == 0xF4) n = 4, high = 0x8F;                // nothing above U+10FFFF
  else if (lead >= 0xF1 && lead <= 0xF3) n = 4;
  else return 0;
  if (s.size() < n || b(1) < low || b(1) > high) return 0;
  for (std::size_t i = 2; i < n; ++i)
    if ((b(i) & 0xC0) != 0x80) return 0;
  return n;
}

std::string_view members_of(std::string_view object_text) {
  if (object_text.size() < 2 || object_text.front() != '{' || object_text.back() != '}') return {};
  return object_text.substr(1, object_text.size() - 2);
}

JsonObjectText::JsonObjectText(std::string& out) : out_(out) { out_ += '{'; }

void JsonObjectText::escaped(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out_ += '"';
  const auto plain = [](unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; };
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t run = i;  // copy runs that need no escaping in one append
    while (run < s.size() && plain(static_cast<unsigned char>(s[run]))) ++run;
    out_.append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence_length(s.substr(i));
      if (n == 0) {
        valid_ = false;
        out_ += "\xEF\xBF\xBD";
        ++i;
      } else {
        out_.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out_ += "\\\""; break;
      case '\\': out_ += "\\\\"; break;
      case '\b': out_ += "\\b"; break;
      case '\f': out_ += "\\f"; break;
      case '\n': out_ += "\\n"; break;
      case '\r': out_ += "\\r"; break;
      case '\t': out_ += "\\t"; break;
      default:  // the other control characters
        out_ += "\\u00";
        out_ += kHex[c >> 4];
        out_ += kHex[c & 15];
    }
    ++i;
  }
  out_ += '"';
}

void JsonObjectText::name(std::string_view n) {
  if (comma_) out_ += ',';
  escaped(n);
  out_ += ':';
  comma_ = true;
}

JsonObjectText& JsonObjectText::string(std::string_view n, std::string_view value) {
  name(n);
  escaped(value);
  return *this;
}

JsonObjectText& JsonObjectText::null(std::string_view n) {
  name(n);
  out_ += "null";
  return *this;
}

JsonObjectText& JsonObjectText::json(std::string_view n, std::string_view json_text) {
  name(n);
  out_ += json_text;
  return *this;
}

JsonObjectText& JsonObjectText::members(std::string_view members_text) {
  if (members_text.empty()) return *this;
  if (comma_) out_ += ',';
  out_ += members_text;
  comma_ = true;
  return *this;
}

JsonObjectText& JsonObjectText::open(std::string_view n) {
  name(n);
  out_ += '{';
  comma_ = false;
  return *this;
}

JsonObjectText& JsonObjectText::close() {
  out_ += '}';
  comma_ = true;  // a closed nested object is a member of its parent
  return *this;
}

}  // namespace xoev::crypto
