// Who is asking: the sender a credential mapped to, and how it proved it.
#pragma once

#include <string>

namespace xoev::auth {

struct Identity {
  std::string sender;                // a senders[].id
  bool admin = false;                // listed in admins:
  std::string method;                // "mtls", "jwt", "token"
};

}  // namespace xoev::auth
