// systemd readiness without libsystemd: under `Type=notify`, systemd passes the path
// of a datagram socket in $NOTIFY_SOCKET and waits for "READY=1" on it before it
// starts the units ordered after this one. Outside systemd (no $NOTIFY_SOCKET) every
// call is a no-op, so the commands call it unconditionally.
#pragma once

#include <string>
#include <string_view>

#include "gateway/core/result.h"

namespace xoev {

// Sends `state` (e.g. "READY=1\nSTATUS=listening on 127.0.0.1:8080") to $NOTIFY_SOCKET.
// A path starting with '@' is an abstract socket. Not sent is not fatal for a service:
// callers log the problem and keep running.
Status systemd_notify(std::string_view state);

// "READY=1" plus a STATUS line for `systemctl status`.
inline Status systemd_notify_ready(std::string_view status) {
  return systemd_notify("READY=1\nSTATUS=" + std::string(status));
}
inline Status systemd_notify_stopping() { return systemd_notify("STOPPING=1"); }

}  // namespace xoev
