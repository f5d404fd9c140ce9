#include "gateway/crypto/openssl_util.h"

#include <openssl/crypto.h>
#include <openssl/err.h>

namespace xoev::crypto {

void Secret::wipe() {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

void Secret::resize(std::size_t n) {
  if (n < bytes_.size()) OPENSSL_cleanse(bytes_.data() + n, bytes_.size() - n);
  if (n <= bytes_.capacity()) {
    bytes_.resize(n);
    return;
  }
  // Growing would reallocate and leave the old buffer unwiped: copy by hand.
  std::vector<unsigned char> bigger(n);
  std::copy(bytes_.begin(), bytes_.end(), bigger.begin());
  wipe();
  bytes_ = std::move(bigger);
}

std::string openssl_error(std::string_view what) {
  std::string out(what);
  unsigned long code = ERR_get_error();
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    out += ": ";
    out += buf;
  }
  ERR_clear_error();
  return out;
}

Problem crypto_problem(std::string detail) { return Problem::make(ProblemKind::crypto, std::move(detail)); }

void cleanse(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace xoev::crypto
