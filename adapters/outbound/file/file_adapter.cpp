#include "adapters/outbound/file/file_adapter.h"

#include <fcntl.h>
#include <unistd.h>

#include <stdio.h>

#include <cerrno>
#include <cstring>
#include <random>

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

class FileAdapter final : public OutboundAdapter {
 public:
  explicit FileAdapter(const FileSettings& c) : dir_(c.directory), pattern_(c.file_name) {}
  std::string_view type() const override { return "file"; }

  DeliveryOutcome deliver(const DeliveredMessage& m) override {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    const auto target = dir_ / file_name_for(pattern_, m);
    // Already delivered (crash between rename and offset commit): nothing to do.
    if (std::filesystem::exists(target, ec)) return Delivered{"already present: " + target.string()};

    // Hidden temporary name in the same directory: rename is atomic on one file system,
    // and a Fachverfahren polling for *.xml never picks up the temporary file.
    // Appended, not prepended: GCC 12's -Wrestrict misreads `"." + name` in Release builds.
    std::string tmp_name(1, '.');
    tmp_name.append(target.filename().string())
        .append(".")
        .append(std::to_string(::getpid()))
        .append(".")
        .append(std::to_string(std::random_device{}()))
        .append(".tmp");
    const auto tmp = dir_ / tmp_name;
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) return Retry{{}, errno_text("cannot create", tmp)};
    size_t written = 0;
    while (written < m.body.size()) {
      const ssize_t n = ::write(fd, m.body.data() + written, m.body.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const std::string reason = errno_text("cannot write", tmp);
        ::close(fd);
        ::unlink(tmp.c_str());
        return Retry{{}, reason};
      }
      written += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) {
      const std::string reason = errno_text("cannot fsync", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return Retry{{}, reason};
    }
    ::close(fd);
    // rename without replace: a concurrent deliverer of the same message can never
    // overwrite a file the Fachverfahren may already be reading. link() is the
    // fallback for file systems without RENAME_NOREPLACE.
    int rc = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE);
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
      rc = ::link(tmp.c_str(), target.c_str());
      if (rc == 0) ::unlink(tmp.c_str());
    }
    if (rc != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      if (err == EEXIST) return Delivered{"already present: " + target.string()};
      errno = err;
      return Retry{{}, errno_text("cannot publish", target)};
    }
    const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);  // make the new directory entry durable
      ::close(dfd);
    }
    return Delivered{target.string()};
  }

 private:
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
