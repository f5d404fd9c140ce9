#include "gateway/auth/send_rights.h"

#include "gateway/core/glob.h"

namespace xoev::auth {

namespace {
bool type_matches(const std::string& pattern, const MessageType& type) {
  return glob_match(pattern, type.code) || glob_match(pattern, type.name) || glob_match(pattern, type.display());
}
}  // namespace

Status check_may_send(const SenderSection& sender, const RoutingHeader& h) {
  if (!sender.may_speak_for.empty()) {
    bool allowed = false;
    for (const auto& pattern : sender.may_speak_for) allowed = allowed || glob_match(pattern, h.author);
    if (!allowed)
      return Problem::make(ProblemKind::forbidden,
                           "rule may_speak_for of sender '" + sender.id + "' (line " + std::to_string(sender.where.line) +
                               ") does not allow writing as autor '" + (h.author.empty() ? "(none)" : h.author) + "'");
  }
  for (const auto& rule : sender.may_send)
    if (glob_match(rule.standard, h.standard) && type_matches(rule.message_type, h.message_type) &&
        glob_match(rule.reader, h.reader))
      return ok_status();
  return Problem::make(ProblemKind::forbidden,
                       "no may_send rule of sender '" + sender.id + "' (line " + std::to_string(sender.where.line) +
                           ") allows " + h.standard + " " + h.message_type.display() + " to reader '" + h.reader + "'");
}

}  // namespace xoev::auth
