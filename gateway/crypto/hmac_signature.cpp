#include "gateway/crypto/hmac_signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace xoev {

std::string hmac_signature(std::string_view secret, int64_t unix_seconds, std::string_view body) {
  const std::string t = std::to_string(unix_seconds);
  std::string input = t;
  input.append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &len);
  static const char* hex = "0123456789abcdef";
  std::string out = "t=";
  out.append(t).append(",v1=");
  for (unsigned i = 0; i < len; ++i) out += {hex[mac[i] >> 4], hex[mac[i] & 15]};
  return out;
}

}  // namespace xoev
