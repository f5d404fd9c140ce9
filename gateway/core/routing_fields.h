// Every routing field has a defined character set and length. What passes is safe in
// a Kafka header, an HTTP header, a file name, a JWE protected header and a log
// line, so nothing a sender writes can inject a header, escape a directory or grow
// a record past what the deliverer accepts. A field that does not pass is refused at
// the door (422 invalid-routing-field naming the field), never dead-lettered later.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "gateway/core/problem.h"
#include "gateway/core/routing_header.h"

namespace xoev {

inline constexpr size_t kMaxMessageIdChars = 128;
inline constexpr size_t kMaxPraefixChars = 64;     // DVDV praefix (or a configured prefix code)
inline constexpr size_t kMaxKennungChars = 100;
inline constexpr size_t kMaxCodeChars = 64;        // message type code
inline constexpr size_t kMaxNameChars = 128;       // message type name, standard
inline constexpr size_t kMaxInformationalChars = 256;  // reference, created_at, service

// The first field that is not acceptable, as a 422 naming it; nullopt when all are.
std::optional<Problem> check_routing_fields(const RoutingHeader& header);

// praefix:kennung, e.g. psw:06414000, leitweg:04011000-1234-12.
bool is_participant_id(std::string_view id);
// A message id: 1..128 of A-Z a-z 0-9 . _ : -, the first alphanumeric (safe in a file name).
bool is_message_id(std::string_view id);
// A value shown for humans: printable, no control characters, escaped for logs.
std::string printable(std::string_view value, size_t max_chars = 80);

}  // namespace xoev
