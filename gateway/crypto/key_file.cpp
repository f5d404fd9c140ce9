#include "gateway/crypto/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "gateway/crypto/openssl_util.h"

namespace xoev::crypto {
namespace {

constexpr off_t kMaxKeyFileBytes = 1 << 20;

Problem file_problem(ProblemKind kind, const std::filesystem::path& path, std::string detail) {
  return Problem::make(kind, std::move(detail)).at(Location{path.string(), 0, 0});
}

std::string mode_octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// "keys/a.pub.jwk" and "keys/a.jwk" -> "a"
std::string kid_from_file_name(const std::filesystem::path& path) {
  std::string stem = path.stem().string();
  constexpr std::string_view pub = ".pub";
  if (stem.size() > pub.size() && stem.ends_with(pub)) stem.resize(stem.size() - pub.size());
  return stem;
}

}  // namespace

Result<Jwk> load_jwk_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return file_problem(ProblemKind::io_error, path, std::string("cannot open key file: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > kMaxKeyFileBytes) {
    ::close(fd);
    return file_problem(ProblemKind::io_error, path, "not a regular key file of at most 1 MiB");
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  auto key = Jwk::parse(text);
  cleanse(text);
  if (!key) {
    Problem p = std::move(key).problem();
    return std::move(p).at(Location{path.string(), 0, 0});
  }
  // Checked on the opened file (fstat), so a swap between check and read is not possible.
  if (key->is_private() && (st.st_mode & 077) != 0)
    return file_problem(ProblemKind::config_invalid, path,
                        "private key file is readable by group or others (mode " + mode_octal(st.st_mode) +
                            "); run: chmod 600 " + path.string());
  return key;
}

Result<KeyRing> load_key_ring(const std::vector<std::filesystem::path>& files) {
  KeyRing ring;
  for (const auto& file : files) {
    auto key = load_jwk_file(file);
    if (!key) return std::move(key).problem();
    if (key->kid().empty()) key->set_kid(kid_from_file_name(file));
    if (auto s = ring.add(std::move(key).value()); !s) {
      Problem p = std::move(s).problem();
      return std::move(p).at(Location{file.string(), 0, 0});
    }
  }
  return ring;
}

Status write_jwk_file(const std::filesystem::path& path, const Jwk& key, bool with_private) {
  const bool secret = with_private && key.is_private();
  const mode_t mode = secret ? 0600 : 0644;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return file_problem(ProblemKind::io_error, path, std::string("cannot create key file: ") + std::strerror(errno));
  std::string text = key.serialize(with_private);
  bool ok = ::fchmod(fd, mode) == 0;  // the umask must not widen or narrow what we promise
  std::size_t done = 0;
  while (ok && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) ok = false;
    else done += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ok = (::close(fd) == 0) && ok;
  cleanse(text);
  if (!ok) {
    ::unlink(path.c_str());
    return file_problem(ProblemKind::io_error, path, std::string("cannot write key file: ") + std::strerror(saved));
  }
  return ok_status();
}

}  // namespace xoev::crypto
