// The http adapter's own configuration:
//   type: http
//   url: https://fachverfahren.example/inbox      (required; http:// or https://)
//   timeout: 10s                                   (whole request)
//   tls_ca, tls_certificate, tls_private_key       (optional; PEM files, mTLS)
//   hmac_secret_file: secrets/x.key               (optional; >= 16 bytes → X-Xoev-Signature)
//   hmac_secret: ${ENV_NAME}                      (instead of the file: the secret from the environment)
//   max_in_flight: 1                               (requests at once; > 1: a consumed group is sent concurrently)
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "gateway/config/config.h"

namespace xoev {

struct HttpSettings final : AdapterSettings {
  std::string url;
  std::chrono::milliseconds timeout{10000};
  std::filesystem::path tls_ca, tls_certificate, tls_private_key;
  std::filesystem::path hmac_secret_file;
  std::string hmac_secret;  // from hmac_secret (${ENV}); used when no file is given
  int max_in_flight = 1;
};

// Most requests at once to one target.
inline constexpr int kMaxHttpInFlight = 64;

// Shortest HMAC secret accepted (bytes, after trailing newlines are dropped).
inline constexpr size_t kMinHmacSecretBytes = 16;

}  // namespace xoev
