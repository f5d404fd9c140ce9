#include "gateway/delivery/delivered_ledger.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace xoev {
namespace {

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Problem io(const std::string& what, const std::filesystem::path& p) {
  return Problem::make(ProblemKind::io_error, what + " " + p.string() + ": " + std::strerror(errno));
}

}  // namespace

Result<std::unique_ptr<DeliveredLedger>> DeliveredLedger::open(const std::filesystem::path& file, std::chrono::hours window) {
  std::unique_ptr<DeliveredLedger> l(new DeliveredLedger());
  l->file_ = file;
  l->window_ = window;
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  // Lock before reading: the rewrite below replaces the file, so the lock lives on
  // a file of its own that is never replaced.
  const auto lock_path = file.string() + ".lock";
  l->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (l->lock_fd_ < 0) return io("cannot open", lock_path);
  if (::flock(l->lock_fd_, LOCK_EX | LOCK_NB) != 0)
    return Problem::make(ProblemKind::io_error, file.string() + " is in use by another deliverer of this destination");
  const int64_t oldest = now_seconds() - std::chrono::duration_cast<std::chrono::seconds>(window).count();
  {
    std::ifstream in(file);
    int64_t at = 0;
    std::string id;
    while (in >> at >> id)
      if (at >= oldest) l->ids_[id] = at;
  }
  // Rewrite without expired entries (temp + fsync + rename), then append from there.
  const auto tmp = file.string() + ".tmp";
  {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) return io("cannot write", tmp);
    std::string all;
    for (const auto& [id, at] : l->ids_) all += std::to_string(at) + " " + id + "\n";
    const bool ok = ::write(fd, all.data(), all.size()) == static_cast<ssize_t>(all.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0) return io("cannot rewrite", file);
  }
  l->fd_ = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (l->fd_ < 0) return io("cannot open", file);
  return l;
}

DeliveredLedger::~DeliveredLedger() {
  if (fd_ >= 0) ::close(fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

bool DeliveredLedger::contains(const std::string& id) const {
  std::lock_guard lock(mu_);
  return ids_.count(id) != 0;
}

size_t DeliveredLedger::size() const {
  std::lock_guard lock(mu_);
  return ids_.size();
}

Status DeliveredLedger::record(const std::string& id) { return record_all({id}); }

Status DeliveredLedger::record_all(const std::vector<std::string>& message_ids) {
  std::lock_guard lock(mu_);
  const int64_t at = now_seconds();
  std::string lines;
  std::vector<const std::string*> added;
  for (const auto& id : message_ids) {
    if (ids_.count(id)) continue;
    lines.append(std::to_string(at)).append(" ").append(id).append("\n");
    added.push_back(&id);
  }
  if (lines.empty()) return ok_status();
  size_t written = 0;
  while (written < lines.size()) {
    const ssize_t n = ::write(fd_, lines.data() + written, lines.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io("cannot append to", file_);
    written += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return io("cannot append to", file_);
  for (const std::string* id : added) ids_[*id] = at;
  return ok_status();
}

}  // namespace xoev
