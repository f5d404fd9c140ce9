#include "gateway/delivery/forwarded_ledger.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace xoev {
namespace {

Problem io(const std::string& what, const std::filesystem::path& p) {
  return Problem::make(ProblemKind::io_error, what + " " + p.string() + ": " + std::strerror(errno));
}

std::string to_line(const ForwardedEntry& e) {
  auto history = nlohmann::json::array();
  for (const auto& [status, at] : e.history) history.push_back({std::string(to_string(status)), at});
  return nlohmann::json{{"op", "+"}, {"id", e.message_id}, {"handedOverMs", e.handed_over_ms}, {"history", history},
                        {"route", e.route}, {"traceparent", e.traceparent}}
             .dump() + "\n";
}

// A torn last line (crash while appending) is skipped: its entry was never acknowledged.
bool from_json(const nlohmann::json& j, ForwardedEntry& e) {
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) return false;
  e.message_id = j["id"].get<std::string>();
  e.handed_over_ms = j.value("handedOverMs", int64_t{0});
  e.route = j.value("route", std::string());
  e.traceparent = j.value("traceparent", std::string());
  if (const auto h = j.find("history"); h != j.end() && h->is_array())
    for (const auto& step : *h)
      if (step.is_array() && step.size() == 2 && step[0].is_string() && step[1].is_string())
        if (auto s = parse_status(step[0].get<std::string>())) e.history.emplace_back(*s, step[1].get<std::string>());
  return true;
}

}  // namespace

Result<std::unique_ptr<ForwardedLedger>> ForwardedLedger::open(const std::filesystem::path& file) {
  std::unique_ptr<ForwardedLedger> l(new ForwardedLedger());
  l->file_ = file;
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_object()) continue;
      const std::string op = j.value("op", std::string());
      ForwardedEntry e;
      if (!from_json(j, e)) continue;
      if (op == "+") l->entries_[e.message_id] = std::move(e);
      else if (op == "-") l->entries_.erase(e.message_id);
    }
  }
  // Compact to the outstanding entries (temp + fsync + rename), then append from there.
  const auto tmp = file.string() + ".tmp";
  {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) return io("cannot write", tmp);
    std::string all;
    for (const auto& [id, e] : l->entries_) all += to_line(e);
    const bool ok = ::write(fd, all.data(), all.size()) == static_cast<ssize_t>(all.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0) return io("cannot rewrite", file);
  }
  l->fd_ = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (l->fd_ < 0) return io("cannot open", file);
  return l;
}

ForwardedLedger::~ForwardedLedger() {
  if (fd_ >= 0) ::close(fd_);
}

Status ForwardedLedger::append(const std::string& line) {
  if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()) || ::fdatasync(fd_) != 0)
    return io("cannot append to", file_);
  return ok_status();
}

Status ForwardedLedger::add(const ForwardedEntry& entry) {
  std::lock_guard lock(mu_);
  if (auto s = append(to_line(entry)); !s) return s;
  entries_[entry.message_id] = entry;
  return ok_status();
}

Status ForwardedLedger::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  if (!entries_.count(id)) return ok_status();
  if (auto s = append(nlohmann::json{{"op", "-"}, {"id", id}}.dump() + "\n"); !s) return s;
  entries_.erase(id);
  return ok_status();
}

std::vector<ForwardedEntry> ForwardedLedger::outstanding() const {
  std::lock_guard lock(mu_);
  std::vector<ForwardedEntry> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) out.push_back(e);
  return out;
}

bool ForwardedLedger::contains(const std::string& id) const {
  std::lock_guard lock(mu_);
  return entries_.count(id) != 0;
}

}  // namespace xoev
