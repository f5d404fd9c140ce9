#include "gateway/runtime/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace xoev {

Status systemd_notify(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || *path == '\0') return ok_status();  // not started by systemd
  const std::string_view socket_path(path);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if ((socket_path.front() != '/' && socket_path.front() != '@') || socket_path.size() >= sizeof address.sun_path)
    return Problem::make(ProblemKind::config_invalid, "NOTIFY_SOCKET is not a socket path: " + std::string(socket_path));
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());
  if (socket_path.front() == '@') address.sun_path[0] = '\0';  // abstract namespace
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path.size());

  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Problem::make(ProblemKind::io_error, std::string("notify socket: ") + std::strerror(errno));
  const ssize_t sent =
      ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address), length);
  const int error = errno;
  ::close(fd);
  if (sent < 0 || static_cast<size_t>(sent) != state.size())
    return Problem::make(ProblemKind::io_error,
                         "notify " + std::string(socket_path) + ": " + (sent < 0 ? std::strerror(error) : "short write"));
  return ok_status();
}

}  // namespace xoev
