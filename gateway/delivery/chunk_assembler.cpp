#include "gateway/delivery/chunk_assembler.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "gateway/crypto/base64url.h"

namespace xoev {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

constexpr std::string_view kLogMagic = "xoev-chunks 1 ";
constexpr uint64_t kMaxLogBytes = 64u << 20;  // ~130 000 chunk lines of 2 GiB at 16 KiB, with room

Problem io_problem(const std::string& what, const fs::path& p, int err) {
  return Problem::make(ProblemKind::io_error, what + " " + p.string() + ": " + std::strerror(err));
}

// Closes on every path out.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

Status write_all(int fd, std::string_view data, const fs::path& p) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_problem("write", p, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok_status();
}

// Writes at `at`, made durable when `sync` (else flush() makes it so); on failure the
// file is cut back to where it was, so no half record stays behind in a run that goes on.
Status append_at(const fs::path& p, std::string_view data, uint64_t at, bool create, bool sync) {
  Fd f(::open(p.c_str(), O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0600));
  if (f.fd < 0) return io_problem("open", p, errno);
  if (::lseek(f.fd, static_cast<off_t>(at), SEEK_SET) < 0) return io_problem("seek", p, errno);
  Status s = write_all(f.fd, data, p);
  if (s && sync && ::fdatasync(f.fd) != 0) s = io_problem("fdatasync", p, errno);
  if (!s && ::ftruncate(f.fd, static_cast<off_t>(at)) == 0 && sync) (void)::fdatasync(f.fd);
  return s;
}

Status append_durably(const fs::path& p, std::string_view data, uint64_t at, bool create) {
  return append_at(p, data, at, create, /*sync=*/true);
}

Status sync_file(const fs::path& p) {
  Fd f(::open(p.c_str(), O_WRONLY | O_CLOEXEC));
  if (f.fd < 0) return io_problem("open", p, errno);
  if (::fdatasync(f.fd) != 0) return io_problem("fdatasync", p, errno);
  return ok_status();
}

Status sync_directory(const fs::path& dir) {
  Fd f(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (f.fd < 0 || ::fsync(f.fd) != 0) return io_problem("fsync directory", dir, errno);
  return ok_status();
}

std::optional<uint64_t> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 20 || (text.size() > 1 && text.front() == '0')) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> out;
  while (true) {
    auto sp = line.find(' ');
    out.push_back(line.substr(0, sp));
    if (sp == std::string_view::npos) return out;
    line.remove_prefix(sp + 1);
  }
}


// The final digest of a copy, so the running hash stays usable.
std::optional<std::string> digest_of(EVP_MD_CTX* running) {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> copy(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (!copy || EVP_MD_CTX_copy_ex(copy.get(), running) != 1 || EVP_DigestFinal_ex(copy.get(), md, &len) != 1)
    return std::nullopt;
  return crypto::base64url_encode({reinterpret_cast<const char*>(md), len});
}

Clock::time_point mtime_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return Clock::now();
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(st.st_mtim.tv_sec) +
                                                                       std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

}  // namespace

ChunkAssembler::ChunkAssembler(fs::path dir, std::chrono::seconds timeout, uint64_t max_message_bytes)
    : dir_(std::move(dir)), timeout_(timeout), max_message_bytes_(max_message_bytes) {}

ChunkAssembler::~ChunkAssembler() = default;

Result<std::unique_ptr<ChunkAssembler>> ChunkAssembler::open(fs::path dir, std::chrono::seconds timeout,
                                                             uint64_t max_message_bytes) {
  std::error_code ec;
  if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return io_problem("create", dir, errno);
  if (!fs::is_directory(dir, ec)) return Problem::make(ProblemKind::io_error, dir.string() + " is not a directory");
  std::unique_ptr<ChunkAssembler> a(new ChunkAssembler(std::move(dir), timeout, max_message_bytes));
  if (auto s = a->load(); !s) return std::move(s).problem();
  return a;
}

fs::path ChunkAssembler::part_path(const std::string& seq) const { return dir_ / (seq + ".part"); }
fs::path ChunkAssembler::log_path(const std::string& seq) const { return dir_ / (seq + ".log"); }
fs::path ChunkAssembler::done_path(const std::string& seq) const { return dir_ / (seq + ".done"); }

Status ChunkAssembler::load() {
  std::error_code ec;
  std::vector<std::string> logs, parts;
  // increment(ec), not a range-for: that would throw on a read error.
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    const std::string name = entry.path().filename().string();
    auto seq_of = [&](std::string_view suffix) -> std::optional<std::string> {
      if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        return std::nullopt;
      std::string seq = name.substr(0, name.size() - suffix.size());
      if (!crypto::is_sequence_id(seq)) return std::nullopt;
      return seq;
    };
    if (auto seq = seq_of(".log")) logs.push_back(*seq);
    else if (auto p = seq_of(".part")) parts.push_back(*p);
    else if (auto d = seq_of(".done")) released_[*d] = mtime_of(entry.path());
  }
  if (ec) return io_problem("read directory", dir_, ec.value());
  for (const auto& seq : logs) {
    if (released_.count(seq)) {  // release() was cut short after its tombstone
      remove_files(seq);
      continue;
    }
    if (auto why = load_sequence(seq)) {
      load_notes_.push_back("sequence " + seq + " discarded: " + *why);
      sequences_.erase(seq);
      remove_files(seq);
    }
  }
  for (const auto& seq : parts) {
    if (sequences_.count(seq) || !fs::exists(part_path(seq), ec)) continue;
    // A part without its log: the crash came before the first progress record.
    fs::remove(part_path(seq), ec);
    load_notes_.push_back("sequence " + seq + ": data without progress removed");
  }
  return ok_status();
}

// nullopt when loaded; otherwise why the sequence cannot be continued.
std::optional<std::string> ChunkAssembler::load_sequence(const std::string& seq) {
  const fs::path log = log_path(seq);
  std::error_code ec;
  const auto log_size = fs::file_size(log, ec);
  if (ec) return "log unreadable";
  if (log_size > kMaxLogBytes) return "log too large";
  std::string text;
  {
    Fd f(::open(log.c_str(), O_RDONLY | O_CLOEXEC));
    if (f.fd < 0) return "log unreadable";
    text.resize(log_size);
    size_t got = 0;
    while (got < text.size()) {
      const ssize_t n = ::read(f.fd, text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return "log unreadable";
      got += static_cast<size_t>(n);
    }
  }
  // Header: magic, metadata length, metadata, newline.
  if (text.compare(0, kLogMagic.size(), kLogMagic) != 0) return "log header missing or torn";
  const auto header_end = text.find('\n');
  if (header_end == std::string::npos) return "log header torn";
  auto meta_len = parse_number(std::string_view(text).substr(kLogMagic.size(), header_end - kLogMagic.size()));
  if (!meta_len || *meta_len > kMaxMetadataBytes) return "log header malformed";
  const size_t meta_start = header_end + 1;
  if (text.size() < meta_start + *meta_len + 1 || text[meta_start + *meta_len] != '\n') return "metadata torn";
  Sequence s;
  s.metadata = text.substr(meta_start, *meta_len);
  size_t pos = meta_start + *meta_len + 1;
  // Only a complete line counts; a torn last append (no newline yet) is dropped.
  const auto last_newline = text.rfind('\n');
  const size_t complete_end = last_newline + 1;
  while (pos < complete_end) {
    const auto nl = text.find('\n', pos);
    auto fields = split_spaces(std::string_view(text).substr(pos, nl - pos));
    pos = nl + 1;
    if (s.complete) return "progress after the last chunk";
    const bool is_last = fields.size() == 5 && fields[0] == "L";
    if (!is_last && !(fields.size() == 3 && fields[0] == "C")) return "progress line malformed";
    auto index = parse_number(fields[1]);
    auto end = parse_number(fields[2]);
    if (!index || !end || *index != s.chunks || *end <= s.bytes) return "progress out of order";
    if (*end > max_message_bytes_) return "progress beyond the size limit";
    s.chunks = *index + 1;
    s.bytes = *end;
    if (is_last) {
      if (fields[3].size() != 43 || !crypto::is_sequence_id(fields[4])) return "last chunk record malformed";
      s.complete = true;
      s.sha256 = std::string(fields[3]);
      s.message_id = std::string(fields[4]);
    }
  }
  if (s.chunks == 0) return "no chunk recorded";
  if (complete_end < text.size()) {
    if (::truncate(log.c_str(), static_cast<off_t>(complete_end)) != 0) return "cannot cut the torn log line";
    load_notes_.push_back("sequence " + seq + ": torn progress line dropped");
  }
  // The part file may hold a chunk whose progress was never recorded: cut it off.
  const fs::path part = part_path(seq);
  const auto part_size = fs::file_size(part, ec);
  if (ec || part_size < s.bytes) return "data shorter than its progress";
  {
    Fd f(::open(part.c_str(), O_RDWR | O_CLOEXEC));
    if (f.fd < 0) return "data unreadable";
    if (part_size > s.bytes) {
      if (::ftruncate(f.fd, static_cast<off_t>(s.bytes)) != 0 || ::fdatasync(f.fd) != 0)
        return "cannot cut unrecorded data";
      load_notes_.push_back("sequence " + seq + ": " + std::to_string(part_size - s.bytes) + " unrecorded bytes cut");
    }
    if (!s.complete) {
      // Rebuild the running hash from the file, streamed.
      s.hash.reset(EVP_MD_CTX_new());
      if (!s.hash || EVP_DigestInit_ex(s.hash.get(), EVP_sha256(), nullptr) != 1) return "SHA-256 unavailable";
      std::string buffer(1u << 20, '\0');
      uint64_t left = s.bytes;
      while (left > 0) {
        const ssize_t n = ::read(f.fd, buffer.data(), static_cast<size_t>(std::min<uint64_t>(left, buffer.size())));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return "data unreadable";
        EVP_DigestUpdate(s.hash.get(), buffer.data(), static_cast<size_t>(n));
        left -= static_cast<uint64_t>(n);
      }
    }
  }
  s.log_bytes = complete_end;
  s.last_progress = mtime_of(log);
  sequences_[seq] = std::move(s);
  return std::nullopt;
}

Problem ChunkAssembler::refuse(const std::string& seq, ProblemKind kind, const std::string& detail) {
  sequences_.erase(seq);
  remove_files(seq);
  return Problem::make(kind, detail + " (sequence " + seq + " discarded)");
}

void ChunkAssembler::remove_files(const std::string& seq) {
  std::error_code ec;
  fs::remove(log_path(seq), ec);  // the log first: a part without a log is garbage on load
  fs::remove(part_path(seq), ec);
  (void)sync_directory(dir_);
}

Result<std::optional<ChunkAssembler::Complete>> ChunkAssembler::add(const crypto::OpenedChunk& chunk,
                                                                   std::string_view metadata_json,
                                                                   Durability durability) {
  const auto& c = chunk.claims;
  // seq becomes a file name: only a message-id token (open_chunk checked it too).
  if (!crypto::is_sequence_id(c.seq))
    return Problem::make(ProblemKind::crypto, "bad seq: not a message-id token");
  // The final message id goes into the progress log as one field.
  if (c.last && c.abort.empty() && !crypto::is_sequence_id(c.message_id))
    return Problem::make(ProblemKind::crypto, "bad messageId: not a message-id token");
  if (released_.count(c.seq)) return std::optional<Complete>{};  // delivered already: a late re-read
  auto it = sequences_.find(c.seq);
  if (!c.abort.empty()) {
    if (it != sequences_.end()) {
      sequences_.erase(it);
      remove_files(c.seq);
    }
    return Problem::make(ProblemKind::crypto, "aborted: " + c.abort + " (sequence " + c.seq + " discarded)");
  }
  if (c.index == 0) {
    if (it != sequences_.end()) {  // a gateway died and the sender resent: start over
      sequences_.erase(it);
      remove_files(c.seq);
    }
    return start(chunk, metadata_json);
  }
  if (it == sequences_.end())
    return Problem::make(ProblemKind::crypto, "gap: chunk " + std::to_string(c.index) + " of sequence " + c.seq +
                                                  " without its beginning");
  Sequence& s = it->second;
  if (c.index < s.chunks) return std::optional<Complete>{};  // at-least-once re-read: held already
  // Past the end of a verified message (a producer bug): refused, the message stays.
  if (s.complete)
    return Problem::make(ProblemKind::crypto, "beyond the last chunk: chunk " + std::to_string(c.index) +
                                                  " of the complete sequence " + c.seq);
  if (c.index > s.chunks)
    return refuse(c.seq, ProblemKind::crypto,
                  "gap: chunk " + std::to_string(c.index) + " arrived, " + std::to_string(s.chunks) + " expected");
  return append(c.seq, s, chunk, durability);
}

Result<std::optional<ChunkAssembler::Complete>> ChunkAssembler::start(const crypto::OpenedChunk& chunk,
                                                                     std::string_view metadata_json) {
  const auto& seq = chunk.claims.seq;
  if (sequences_.size() >= kMaxOpenSequences)
    return Problem::make(ProblemKind::payload_too_large,
                         "too many sequences: " + std::to_string(sequences_.size()) + " open, sequence " + seq + " refused");
  if (metadata_json.size() > kMaxMetadataBytes)
    return Problem::make(ProblemKind::payload_too_large, "metadata too large for sequence " + seq);
  Sequence s;
  s.metadata = std::string(metadata_json);
  s.hash.reset(EVP_MD_CTX_new());
  if (!s.hash || EVP_DigestInit_ex(s.hash.get(), EVP_sha256(), nullptr) != 1)
    return Problem::make(ProblemKind::internal, "SHA-256 unavailable");
  std::string header = std::string(kLogMagic) + std::to_string(metadata_json.size()) + "\n";
  header += metadata_json;
  header += '\n';
  // An empty part, then the log; a log without a chunk line is dropped on load.
  Status w = append_durably(part_path(seq), {}, 0, /*create=*/true);
  if (w) w = append_durably(log_path(seq), header, 0, /*create=*/true);
  if (w) w = sync_directory(dir_);
  if (!w) {
    remove_files(seq);
    return std::move(w).problem();
  }
  s.log_bytes = header.size();
  auto it = sequences_.emplace(seq, std::move(s)).first;
  auto added = append(seq, it->second, chunk, Durability::now);
  if (!added && sequences_.count(seq) && it->second.chunks == 0) {  // nothing held: leave no empty sequence
    sequences_.erase(seq);
    remove_files(seq);
  }
  return added;
}

Result<std::optional<ChunkAssembler::Complete>> ChunkAssembler::append(const std::string& seq, Sequence& s,
                                                                      const crypto::OpenedChunk& chunk,
                                                                      Durability durability) {
  const auto& c = chunk.claims;
  const uint64_t total = s.bytes + chunk.plaintext.size();
  // At the door: nothing beyond the limit is ever written.
  if (total > max_message_bytes_ || (c.last && c.size > max_message_bytes_))
    return refuse(seq, ProblemKind::payload_too_large,
                  "too large: the message exceeds " + std::to_string(max_message_bytes_) + " bytes");
  if (c.last && c.size != total)
    return refuse(seq, ProblemKind::crypto,
                  "size: " + std::to_string(total) + " bytes arrived, the last chunk claims " + std::to_string(c.size));
  const bool deferred = durability == Durability::at_flush && !c.last;
  if (auto w = append_at(part_path(seq), chunk.plaintext, s.bytes, /*create=*/false, /*sync=*/!deferred); !w)
    return std::move(w).problem();
  if (EVP_DigestUpdate(s.hash.get(), chunk.plaintext.data(), chunk.plaintext.size()) != 1) {
    reload(seq);
    return Problem::make(ProblemKind::internal, "SHA-256 failed");
  }
  std::string line;
  if (c.last) {
    auto digest = digest_of(s.hash.get());
    if (!digest) {
      reload(seq);
      return Problem::make(ProblemKind::internal, "SHA-256 failed");
    }
    if (*digest != c.sha256)
      return refuse(seq, ProblemKind::crypto, "hash: the SHA-256 of the " + std::to_string(total) +
                                                  " bytes differs from the last chunk's claim");
    line = "L " + std::to_string(c.index) + " " + std::to_string(total) + " " + c.sha256 + " " + c.message_id + "\n";
  } else {
    line = "C " + std::to_string(c.index) + " " + std::to_string(total) + "\n";
  }
  if (deferred) {
    s.unflushed += line;
  } else {
    // Progress only after its data: what was written at_flush before this chunk too.
    line.insert(0, s.unflushed);
    if (auto w = append_durably(log_path(seq), line, s.log_bytes, /*create=*/false); !w) {
      reload(seq);  // the hash took bytes the log does not record
      return std::move(w).problem();
    }
    s.unflushed.clear();
    s.log_bytes += line.size();
  }
  s.chunks = c.index + 1;
  s.bytes = total;
  s.last_progress = Clock::now();
  if (!c.last) return std::optional<Complete>{};
  s.complete = true;
  s.sha256 = c.sha256;
  s.message_id = c.message_id;
  s.hash.reset();
  return std::optional<Complete>{complete_of(seq, s)};
}

Status ChunkAssembler::flush_sequence(const std::string& seq, Sequence& s) {
  if (s.unflushed.empty()) return ok_status();
  Status w = sync_file(part_path(seq));  // the data, then the progress that records it
  if (w) w = append_durably(log_path(seq), s.unflushed, s.log_bytes, /*create=*/false);
  if (!w) return w;
  s.log_bytes += s.unflushed.size();
  s.unflushed.clear();
  return ok_status();
}

Status ChunkAssembler::flush(std::vector<std::string>* rolled_back) {
  for (auto& [seq, s] : sequences_) {
    if (auto w = flush_sequence(seq, s); !w) {
      // A failed fdatasync may have dropped the dirty pages: only what the files
      // durably record counts, the rest is added again.
      const std::string failed = seq;
      reload(failed);
      if (rolled_back != nullptr) rolled_back->push_back(failed);
      return w;
    }
  }
  return ok_status();
}

bool ChunkAssembler::has_unflushed() const {
  for (const auto& [seq, s] : sequences_)
    if (!s.unflushed.empty()) return true;
  return false;
}

void ChunkAssembler::reload(const std::string& seq) {
  sequences_.erase(seq);
  if (auto why = load_sequence(seq)) {
    load_notes_.push_back("sequence " + seq + " discarded: " + *why);
    sequences_.erase(seq);
    remove_files(seq);
  }
}

ChunkAssembler::Complete ChunkAssembler::complete_of(const std::string& seq, const Sequence& s) const {
  return Complete{s.message_id, part_path(seq), s.bytes, s.sha256, seq, s.metadata, s.chunks};
}

Status ChunkAssembler::release(const std::string& seq) {
  if (!crypto::is_sequence_id(seq)) return Problem::make(ProblemKind::internal, "release: bad seq");
  // The tombstone first: once the files are gone, late re-reads must find it.
  if (auto w = append_durably(done_path(seq), {}, 0, /*create=*/true); !w) return w;
  released_[seq] = Clock::now();
  sequences_.erase(seq);
  remove_files(seq);
  if (released_.size() > kMaxTombstones) {
    auto oldest = released_.begin();
    for (auto it = released_.begin(); it != released_.end(); ++it)
      if (it->second < oldest->second) oldest = it;
    std::error_code ec;
    fs::remove(done_path(oldest->first), ec);
    released_.erase(oldest);
  }
  return ok_status();
}

std::vector<ChunkAssembler::Expired> ChunkAssembler::expire(Clock::time_point now) {
  std::vector<Expired> out;
  for (auto it = sequences_.begin(); it != sequences_.end();) {
    const auto& [seq, s] = *it;
    if (s.complete || now - s.last_progress <= timeout_) {
      ++it;
      continue;
    }
    out.push_back(Expired{seq, s.metadata, s.bytes, s.chunks});
    const std::string gone = seq;
    it = sequences_.erase(it);
    remove_files(gone);
  }
  for (auto it = released_.begin(); it != released_.end();) {
    if (now - it->second <= timeout_) {
      ++it;
      continue;
    }
    std::error_code ec;
    fs::remove(done_path(it->first), ec);
    it = released_.erase(it);
  }
  return out;
}

std::vector<ChunkAssembler::Complete> ChunkAssembler::completed() const {
  std::vector<Complete> out;
  for (const auto& [seq, s] : sequences_)
    if (s.complete) out.push_back(complete_of(seq, s));
  return out;
}

std::vector<ChunkAssembler::Expired> ChunkAssembler::held() const {
  std::vector<Expired> out;
  for (const auto& [seq, s] : sequences_) out.push_back(Expired{seq, s.metadata, s.bytes, s.chunks});
  return out;
}

uint64_t ChunkAssembler::held_bytes() const {
  uint64_t total = 0;
  for (const auto& [seq, s] : sequences_) total += s.bytes;
  return total;
}

}  // namespace xoev
