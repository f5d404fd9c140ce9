#include "adapters/outbound/xta/xta_mailbox.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include <libxml/xmlreader.h>

#include "gateway/core/clock.h"
#include "gateway/core/file_copy.h"
#include "gateway/core/hidden_temporary_name.h"
#include "gateway/core/xml_document.h"

namespace xoev::xta {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kMaxFileNameBytes = 240;  // below NAME_MAX with room for ".msg" and temp suffixes
constexpr const char* kSuffix = ".msg";

Problem io_problem(const std::string& what, const fs::path& p) {
  return Problem::make(ProblemKind::io_error, what + " " + p.string() + ": " + std::strerror(errno));
}

void fsync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

nlohmann::json to_json(const MailboxEntry& e) {
  return {{"messageId", e.message_id},     {"messageType", e.message_type}, {"standard", e.standard},
          {"sender", e.sender},            {"recipient", e.recipient},      {"destination", e.destination},
          {"acceptedAt", e.accepted_at},   {"storedAt", e.stored_at},       {"payloadNamespace", e.payload_namespace},
          {"size", e.size}};
}

std::optional<MailboxEntry> from_json(const std::string& line) {
  const auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  MailboxEntry e;
  auto text = [&](const char* key) { return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : ""; };
  e.message_id = text("messageId");
  e.message_type = text("messageType");
  e.standard = text("standard");
  e.sender = text("sender");
  e.recipient = text("recipient");
  e.destination = text("destination");
  e.accepted_at = text("acceptedAt");
  e.stored_at = text("storedAt");
  e.payload_namespace = text("payloadNamespace");
  if (j.contains("size") && j["size"].is_number_unsigned()) e.size = j["size"].get<std::size_t>();
  if (e.message_id.empty()) return std::nullopt;
  return e;
}

// Reads the metadata line only (listing must not load every body).
std::optional<MailboxEntry> read_entry(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return from_json(line);
}

Status write_all(int fd, const std::string& bytes, const fs::path& p) {
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_problem("cannot write", p);
    written += static_cast<size_t>(n);
  }
  return ok_status();
}

constexpr std::size_t kNamespacePrefixBytes = 64 * 1024;  // where the root start tag must begin

// The root element's namespace from the first bytes of a document (validated
// upstream): a reader stops at the first element, so a cut-off prefix is fine. No
// network, no DTD loading, no entity substitution.
std::string root_namespace_of(std::string_view prefix) {
  // libxml2's lazy global set-up races between threads (two deliverers' first large
  // messages leaked its encoding table under LeakSanitizer); the guarded entity
  // loader comes with it.
  xml_global_init();
  std::string ns;
  xmlTextReaderPtr reader = xmlReaderForMemory(prefix.data(), static_cast<int>(prefix.size()), nullptr, nullptr,
                                               XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (!reader) return ns;
  while (xmlTextReaderRead(reader) == 1) {
    if (xmlTextReaderNodeType(reader) != XML_READER_TYPE_ELEMENT) continue;
    if (const xmlChar* uri = xmlTextReaderConstNamespaceUri(reader)) ns = reinterpret_cast<const char*>(uri);
    break;
  }
  xmlFreeTextReader(reader);
  return ns;
}

// Publishes tmp as target without ever replacing an existing target.
int publish_no_replace(const fs::path& tmp, const fs::path& target) {
  int rc = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {  // file systems without RENAME_NOREPLACE
    rc = ::link(tmp.c_str(), target.c_str());
    if (rc == 0) ::unlink(tmp.c_str());
  }
  return rc;
}

}  // namespace

std::string mailbox_file_name(const std::string& message_id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < message_id.size(); ++i) {
    const auto c = static_cast<unsigned char>(message_id[i]);
    const bool safe = std::isalnum(c) || c == '-' || c == '_' || c == ':' || c == '@' || c == '+' ||
                      (c == '.' && i > 0);  // a leading dot would hide the file
    if (safe) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  if (out.empty() || out.size() > kMaxFileNameBytes) return {};
  return out + kSuffix;
}

Mailbox::Mailbox(fs::path directory) : directory_(std::move(directory)) {}

fs::path Mailbox::pending_path(const std::string& file) const { return directory_ / "pending" / file; }
fs::path Mailbox::closed_path(const std::string& file) const { return directory_ / "closed" / file; }

Result<std::unique_ptr<Mailbox>> Mailbox::open(const fs::path& directory) {
  if (directory.empty()) return Problem::make(ProblemKind::config_invalid, "xta adapter: directory is not set");
  for (const auto& sub : {directory / "pending", directory / "closed"}) {
    std::error_code ec;
    fs::create_directories(sub, ec);
    if (ec || !fs::is_directory(sub))
      return Problem::make(ProblemKind::io_error, "cannot create mailbox directory " + sub.string() +
                                                      (ec ? ": " + ec.message() : ""));
  }
  return std::unique_ptr<Mailbox>(new Mailbox(directory));
}

bool Mailbox::knows(const std::string& message_id) const {
  const std::string file = mailbox_file_name(message_id);
  if (file.empty()) return false;
  std::error_code ec;
  return fs::exists(pending_path(file), ec) || fs::exists(closed_path(file), ec);
}

Result<StoreOutcome> Mailbox::store(const DeliveredMessage& m) {
  const std::string file = mailbox_file_name(m.message_id);
  if (file.empty())
    return Problem::make(ProblemKind::bad_request, "message id cannot name a mailbox entry: '" + m.message_id + "'");

  MailboxEntry entry;
  entry.message_id = m.message_id;
  entry.message_type = m.message_type;
  entry.standard = m.standard;
  entry.sender = m.sender;
  entry.recipient = m.recipient;
  entry.destination = m.destination;
  entry.accepted_at = m.accepted_at;
  entry.stored_at = rfc3339_now();
  const bool large = !m.body_file.empty();
  entry.size = large ? m.body_size : m.body.size();
  int source = -1;
  if (large) {
    source = ::open(m.body_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (source < 0) return io_problem("cannot open", m.body_file);
  }
  struct CloseSource {
    int& fd;
    ~CloseSource() {
      if (fd >= 0) ::close(fd);
    }
  } close_source{source};
  // The root namespace becomes MessageType/@payloadSchema; the body was validated upstream.
  if (large) {
    std::string prefix(kNamespacePrefixBytes, '\0');
    const ssize_t n = ::pread(source, prefix.data(), prefix.size(), 0);
    prefix.resize(n > 0 ? static_cast<size_t>(n) : 0);
    entry.payload_namespace = root_namespace_of(prefix);
  } else {
    entry.payload_namespace = root_namespace_of(std::string_view(m.body).substr(0, kNamespacePrefixBytes));
  }

  std::lock_guard lock(mutex_);
  const fs::path target = pending_path(file);
  std::error_code ec;
  // Closed counts as present: an acknowledged message must never show up again.
  if (fs::exists(target, ec) || fs::exists(closed_path(file), ec)) return StoreOutcome::already_present;

  const fs::path tmp = directory_ / "pending" / hidden_temporary_name(file);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return io_problem("cannot create", tmp);
  auto fail = [&](Problem p) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return p;
  };
  if (auto w = write_all(fd, to_json(entry).dump() + "\n", tmp); !w) return fail(w.problem());
  if (large) {
    if (auto c = copy_file_bytes(source, fd, m.body_size, m.body_file.string()); !c) return fail(c.problem());
  } else if (auto w = write_all(fd, m.body, tmp); !w) {
    return fail(w.problem());
  }
  if (::fsync(fd) != 0) return fail(io_problem("cannot fsync", tmp));
  ::close(fd);

  if (publish_no_replace(tmp, target) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST) return StoreOutcome::already_present;  // another process was faster
    errno = err;
    return io_problem("cannot publish", target);
  }
  fsync_directory(target.parent_path());
  return StoreOutcome::stored;
}

Result<std::vector<MailboxEntry>> Mailbox::pending() const {
  std::lock_guard lock(mutex_);
  std::vector<MailboxEntry> entries;
  std::error_code ec;
  fs::directory_iterator it(directory_ / "pending", ec);
  if (ec) return Problem::make(ProblemKind::io_error, "cannot list " + (directory_ / "pending").string() + ": " + ec.message());
  for (const auto& f : it) {
    const std::string name = f.path().filename().string();
    if (name.empty() || name[0] == '.' || f.path().extension() != kSuffix) continue;  // temporary files
    if (auto e = read_entry(f.path())) entries.push_back(std::move(*e));
  }
  std::sort(entries.begin(), entries.end(), [](const MailboxEntry& a, const MailboxEntry& b) {
    return a.stored_at != b.stored_at ? a.stored_at < b.stored_at : a.message_id < b.message_id;
  });
  return entries;
}

Result<MailboxMessage> Mailbox::get(const std::string& message_id) const {
  const std::string file = mailbox_file_name(message_id);
  if (file.empty()) return Problem::make(ProblemKind::not_found, "no pending message '" + message_id + "'");
  std::lock_guard lock(mutex_);
  const fs::path path = pending_path(file);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Problem::make(ProblemKind::not_found, "no pending message '" + message_id + "'");
  std::string line;
  std::getline(in, line);
  auto entry = from_json(line);
  std::error_code ec;
  const uint64_t file_size = fs::file_size(path, ec);
  const uint64_t offset = line.size() + 1;
  // The metadata's size must match the bytes after it: a cut-off file is never served.
  if (!entry || ec || file_size < offset || file_size - offset != entry->size)
    return Problem::make(ProblemKind::io_error, "damaged mailbox entry " + path.string());
  if (entry->size > kInlineBodyBytes) {
    auto range = FileRange::open(path, offset, entry->size);
    if (!range) return range.problem();
    return MailboxMessage{std::move(*entry), {}, std::move(range).value()};
  }
  std::string body(entry->size, '\0');
  if (!in.read(body.data(), static_cast<std::streamsize>(body.size())))
    return Problem::make(ProblemKind::io_error, "damaged mailbox entry " + path.string());
  return MailboxMessage{std::move(*entry), std::move(body), nullptr};
}

Result<CloseOutcome> Mailbox::close(const std::string& message_id) {
  const std::string file = mailbox_file_name(message_id);
  if (file.empty()) return Problem::make(ProblemKind::not_found, "unknown message '" + message_id + "'");
  std::lock_guard lock(mutex_);
  const fs::path from = pending_path(file);
  const fs::path to = closed_path(file);
  if (publish_no_replace(from, to) == 0) {
    fsync_directory(to.parent_path());
    fsync_directory(from.parent_path());
    return CloseOutcome::closed;
  }
  const int err = errno;
  std::error_code ec;
  if (err == ENOENT) {
    if (fs::exists(to, ec)) return CloseOutcome::already_closed;
    return Problem::make(ProblemKind::not_found, "unknown message '" + message_id + "'");
  }
  if (err == EEXIST) {  // closed before and stored again by an older process: the closed copy wins
    ::unlink(from.c_str());
    fsync_directory(from.parent_path());
    return CloseOutcome::already_closed;
  }
  errno = err;
  return io_problem("cannot close", from);
}

}  // namespace xoev::xta
