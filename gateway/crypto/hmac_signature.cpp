#include "gateway/crypto/hmac_signature.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <fstream>
#include <memory>
#include <vector>

namespace xoev {
namespace {

// HMAC-SHA256 fed piece by piece (EVP_MAC), so a file body is never held whole.
class Hmac {
 public:
  explicit Hmac(std::string_view secret)
      : mac_(EVP_MAC_fetch(nullptr, "HMAC", nullptr), &EVP_MAC_free), ctx_(nullptr, &EVP_MAC_CTX_free) {
    if (!mac_) return;
    ctx_.reset(EVP_MAC_CTX_new(mac_.get()));
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    if (ctx_ && EVP_MAC_init(ctx_.get(), reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), params) != 1)
      ctx_.reset();
  }
  bool ok() const { return ctx_ != nullptr; }
  void update(std::string_view bytes) {
    if (ctx_) EVP_MAC_update(ctx_.get(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  }
  std::string hex() {
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t len = 0;
    if (!ctx_ || EVP_MAC_final(ctx_.get(), mac, &len, sizeof mac) != 1) return {};
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < len; ++i) out += {digits[mac[i] >> 4], digits[mac[i] & 15]};
    return out;
  }

 private:
  std::unique_ptr<EVP_MAC, decltype(&EVP_MAC_free)> mac_;
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx_;
};

std::string header_value(const std::string& t, const std::string& hex) { return "t=" + t + ",v1=" + hex; }

}  // namespace

std::string hmac_signature(std::string_view secret, int64_t unix_seconds, std::string_view body) {
  const std::string t = std::to_string(unix_seconds);
  Hmac mac(secret);
  mac.update(t);
  mac.update(".");
  mac.update(body);
  return header_value(t, mac.hex());
}

Result<std::string> hmac_signature_of_file(std::string_view secret, int64_t unix_seconds,
                                           const std::filesystem::path& body_file) {
  const std::string t = std::to_string(unix_seconds);
  Hmac mac(secret);
  if (!mac.ok()) return Problem::make(ProblemKind::internal, "HMAC-SHA256 is not available");
  std::ifstream in(body_file, std::ios::binary);
  if (!in) return Problem::make(ProblemKind::io_error, "cannot read " + body_file.string());
  mac.update(t);
  mac.update(".");
  std::vector<char> buffer(1u << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    mac.update(std::string_view(buffer.data(), static_cast<size_t>(in.gcount())));
  }
  if (in.bad()) return Problem::make(ProblemKind::io_error, "cannot read " + body_file.string());
  return header_value(t, mac.hex());
}

}  // namespace xoev
