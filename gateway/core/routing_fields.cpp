#include "gateway/core/routing_fields.h"

#include <cstdio>

namespace xoev {
namespace {

bool ascii_alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// 1..max characters, the first alphanumeric, the others alphanumeric or in `extra`.
bool token(std::string_view v, size_t max, std::string_view extra) {
  if (v.empty() || v.size() > max || !ascii_alnum(v.front())) return false;
  for (char c : v)
    if (!ascii_alnum(c) && extra.find(c) == std::string_view::npos) return false;
  return true;
}

// Free text for humans: UTF-8 allowed, control characters (CR, LF, NUL, DEL ...) not.
bool informational(std::string_view v, size_t max) {
  if (v.size() > max) return false;
  for (unsigned char c : v)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

Problem refuse(const std::string& field, std::string_view value, const std::string& rule) {
  return Problem::make(ProblemKind::invalid_routing_field,
                       "routing field '" + field + "' ('" + printable(value) + "') is not acceptable: " + rule);
}

}  // namespace

bool is_participant_id(std::string_view id) {
  const auto colon = id.find(':');
  if (colon == std::string_view::npos) return false;
  return token(id.substr(0, colon), kMaxPraefixChars, "_-") && token(id.substr(colon + 1), kMaxKennungChars, "._-");
}

bool is_message_id(std::string_view id) { return token(id, kMaxMessageIdChars, "._:-"); }

std::string printable(std::string_view value, size_t max_chars) {
  std::string out;
  for (size_t i = 0; i < value.size() && out.size() < max_chars; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f || c == '\\') {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out += esc;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (value.size() > max_chars) out += "…";
  return out;
}

std::optional<Problem> check_routing_fields(const RoutingHeader& h) {
  const std::string participant = "praefix:kennung, the praefix at most " + std::to_string(kMaxPraefixChars) +
                                  " of A-Z a-z 0-9 _ -, the kennung at most " + std::to_string(kMaxKennungChars) +
                                  " of A-Z a-z 0-9 . _ -";
  if (!is_message_id(h.message_id))
    return refuse("messageId", h.message_id, "at most 128 characters of A-Z a-z 0-9 . _ - :, starting with a letter or digit");
  if (!is_participant_id(h.reader)) return refuse("reader", h.reader, participant);
  if (!h.author.empty() && !is_participant_id(h.author)) return refuse("author", h.author, participant);
  if (!h.message_type.code.empty() && !token(h.message_type.code, kMaxCodeChars, "._-"))
    return refuse("messageType.code", h.message_type.code, "at most 64 characters of A-Z a-z 0-9 . _ -");
  if (!h.message_type.name.empty() && !token(h.message_type.name, kMaxNameChars, "._-"))
    return refuse("messageType.name", h.message_type.name, "at most 128 characters of A-Z a-z 0-9 . _ -");
  if (h.message_type.code.empty() && h.message_type.name.empty())
    return refuse("messageType", "", "the message has no message type code");
  if (!token(h.standard, kMaxNameChars, " ._-")) return refuse("standard", h.standard, "at most 128 characters of A-Z a-z 0-9 space . _ -");
  if (!h.version.empty() && !token(h.version, kMaxCodeChars, " ._-"))
    return refuse("version", h.version, "at most 64 characters of A-Z a-z 0-9 space . _ -");
  if (!h.service.empty() && !token(h.service, kMaxInformationalChars, "._:/-"))
    return refuse("service", h.service, "at most 256 characters of A-Z a-z 0-9 . _ : / -");
  if (!informational(h.reference, kMaxInformationalChars))
    return refuse("reference", h.reference, "at most 256 characters without control characters");
  if (!informational(h.created_at, kMaxInformationalChars))
    return refuse("createdAt", h.created_at, "at most 256 characters without control characters");
  return std::nullopt;
}

}  // namespace xoev
