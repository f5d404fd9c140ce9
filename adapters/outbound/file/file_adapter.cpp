#include "adapters/outbound/file/file_adapter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "gateway/core/file_copy.h"
#include "gateway/core/hidden_temporary_name.h"
#include "gateway/core/result.h"

namespace xoev {
namespace {

std::string safe(const std::string& v) {
  std::string out = v;
  for (char& c : out)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':')) c = '_';
  if (out.empty() || out == "." || out == "..") out.assign(1, '_');
  return out;
}

void replace_all(std::string& s, const std::string& what, const std::string& with) {
  for (size_t pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + with.size()))
    s.replace(pos, what.size(), with);
}

std::string errno_text(const std::string& what, const std::filesystem::path& p) {
  return what + " " + p.string() + ": " + std::strerror(errno);
}

// A message's file on its way: written under a temporary name, not yet published.
struct Staged {
  std::filesystem::path target, tmp;
  int fd = -1;                   // open until the group is synced
  bool already_present = false;  // delivered before: nothing written
};

class FileAdapter final : public OutboundAdapter {
  static constexpr mode_t kFileMode = 0640;

 public:
  explicit FileAdapter(const FileSettings& c) : dir_(c.directory), pattern_(c.file_name) {}
  std::string_view type() const override { return "file"; }
  bool delivers_groups() const override { return true; }  // a file already there is not written again
  bool streams_files() const override { return true; }   // large messages are copied file to file

  DeliveryOutcome deliver(const DeliveredMessage& m) override { return std::move(deliver_group({&m}).front()); }

  // Group commit: write every temporary file, make them durable with one sync, publish
  // them by rename in order, then one fsync of the directory. Each file is complete
  // on disk before its name appears, as with one file at a time.
  std::vector<DeliveryOutcome> deliver_group(const std::vector<const DeliveredMessage*>& messages) override {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    std::vector<Staged> staged;
    for (const DeliveredMessage* m : messages) {
      Staged next{dir_ / file_name_for(pattern_, *m), {}, -1, false};
      // Already delivered (crash between rename and offset commit): nothing to write.
      if (std::filesystem::exists(next.target, ec)) {
        next.already_present = true;
      } else if (auto written = m->body_file.empty() ? write_temporary(next, m->body)
                                                     : copy_temporary(next, m->body_file, m->body_size);
                 !written) {
        // This one is retried later; the ones before it are published now.
        auto outcomes = publish(staged);
        if (outcomes.size() == staged.size()) outcomes.push_back(Retry{{}, written.problem().detail});
        return outcomes;
      }
      staged.push_back(std::move(next));
    }
    return publish(staged);
  }

 private:
  // Writes the body under a hidden temporary name beside the target (rename is atomic
  // on one file system, and a Fachverfahren polling for *.xml never picks it up).
  // Leaves it open and unsynced in `s`.
  Status write_temporary(Staged& s, const std::string& body) {
    if (auto created = create_temporary(s); !created) return created;
    size_t written = 0;
    while (written < body.size()) {
      const ssize_t n = ::write(s.fd, body.data() + written, body.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return abandon(s, errno_text("cannot write", s.tmp));
      written += static_cast<size_t>(n);
    }
    return ok_status();
  }

  // A large message. On the same file system the deliverer's reassembled file itself
  // becomes the delivered one: a second name for it (link), no bytes moved, its data
  // already durable. Elsewhere it is copied by the kernel (copy_file_range, a reflink
  // where the file system can), never through memory.
  Status copy_temporary(Staged& s, const std::filesystem::path& source, uint64_t size) {
    if (link_temporary(s, source, size)) return ok_status();
    const int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) return Problem::make(ProblemKind::io_error, errno_text("cannot open", source));
    if (auto created = create_temporary(s); !created) {
      ::close(in);
      return created;
    }
    auto copied = copy_file_bytes(in, s.fd, size, source.string());
    if (!copied) {
      ::close(in);
      return abandon(s, copied.problem().detail + " (into " + s.tmp.string() + ")");
    }
    ::close(in);
    return ok_status();
  }

  // True: linked, s.fd open on it. False: nothing was left behind (another file system,
  // or links not allowed there); the caller copies instead.
  bool link_temporary(Staged& s, const std::filesystem::path& source, uint64_t size) {
    s.tmp = dir_ / temporary_name(s);
    if (::link(source.c_str(), s.tmp.c_str()) != 0) return false;
    s.fd = ::open(s.tmp.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (s.fd < 0 || ::fstat(s.fd, &st) != 0 || static_cast<uint64_t>(st.st_size) != size ||
        ::fchmod(s.fd, kFileMode) != 0) {
      if (s.fd >= 0) ::close(std::exchange(s.fd, -1));
      ::unlink(s.tmp.c_str());
      return false;
    }
    return true;
  }

  Status abandon(Staged& s, std::string reason) {
    ::close(std::exchange(s.fd, -1));
    ::unlink(s.tmp.c_str());
    return Problem::make(ProblemKind::io_error, std::move(reason));
  }

  static std::string temporary_name(const Staged& s) { return hidden_temporary_name(s.target.filename().string()); }

  Status create_temporary(Staged& s) {
    s.tmp = dir_ / temporary_name(s);
    s.fd = ::open(s.tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
    if (s.fd < 0) return Problem::make(ProblemKind::io_error, errno_text("cannot create", s.tmp));
    return ok_status();
  }

  // Syncs the staged files (fsync for one, one syncfs for a group), closes them and
  // renames them in order. Returns the outcomes of the published prefix: a failure
  // ends it, and the files after it are removed (they are written again on retry).
  std::vector<DeliveryOutcome> publish(std::vector<Staged>& staged) {
    std::vector<int> fds;
    for (const auto& s : staged)
      if (s.fd >= 0) fds.push_back(s.fd);
    bool synced = true;
    if (fds.size() == 1) synced = ::fsync(fds.front()) == 0;
    if (fds.size() > 1) synced = ::syncfs(fds.front()) == 0;
    const std::string sync_error = synced ? std::string() : errno_text("cannot sync", dir_);
    for (auto& s : staged)
      if (s.fd >= 0) ::close(std::exchange(s.fd, -1));

    std::vector<DeliveryOutcome> outcomes;
    bool renamed_any = false;
    size_t i = 0;
    for (; i < staged.size(); ++i) {
      const Staged& s = staged[i];
      if (s.already_present) {
        outcomes.push_back(Delivered{"already present: " + s.target.string()});
        continue;
      }
      if (!synced) {
        outcomes.push_back(Retry{{}, sync_error});
        break;
      }
      // rename without replace: a concurrent deliverer of the same message can never
      // overwrite a file the Fachverfahren may already be reading. link() is the
      // fallback for file systems without RENAME_NOREPLACE.
      int rc = ::renameat2(AT_FDCWD, s.tmp.c_str(), AT_FDCWD, s.target.c_str(), RENAME_NOREPLACE);
      if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
        rc = ::link(s.tmp.c_str(), s.target.c_str());
        if (rc == 0) ::unlink(s.tmp.c_str());
      }
      if (rc != 0) {
        const int err = errno;
        ::unlink(s.tmp.c_str());
        if (err == EEXIST) {
          outcomes.push_back(Delivered{"already present: " + s.target.string()});
          continue;
        }
        errno = err;
        outcomes.push_back(Retry{{}, errno_text("cannot publish", s.target)});
        break;
      }
      renamed_any = true;
      outcomes.push_back(Delivered{s.target.string()});
    }
    for (size_t rest = i; rest < staged.size(); ++rest)
      if (!staged[rest].already_present && !staged[rest].tmp.empty()) ::unlink(staged[rest].tmp.c_str());
    if (renamed_any) {
      const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd >= 0) {
        ::fsync(dfd);  // make the new directory entries durable
        ::close(dfd);
      }
    }
    return outcomes;
  }

  std::filesystem::path dir_;
  std::string pattern_;
};

}  // namespace

std::string file_name_for(const std::string& pattern, const DeliveredMessage& m) {
  std::string name = pattern;
  replace_all(name, "{messageId}", safe(m.message_id));
  replace_all(name, "{destination}", safe(m.destination));
  replace_all(name, "{messageType}", safe(m.message_type));
  return name;
}

OutboundAdapterPtr make_file_adapter(const FileSettings& settings) { return std::make_unique<FileAdapter>(settings); }

}  // namespace xoev
