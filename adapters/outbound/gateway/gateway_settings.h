// The gateway adapter's own configuration (a peer xoevgate, e.g. another state's):
//   type: gateway
//   url: https://xoevgate.land-b.example          (required; the peer's base URL)
//   allow_plaintext: false                         (true permits http://, for loopback tests)
//   tls: {certificate, private_key, ca}            (this gateway's client certificate for the
//                                                   peer's sender authentication; ca: the peer's CA)
//   token_file: secrets/peer.token                 (optional bearer token, read per request)
//   timeout: 10s                                   (one request)
//   status_poll_interval: 2s                       (first follow-up of a forwarded message)
//   status_poll_max_interval: 5m                   (follow-ups back off to this)
//   status_follow_up_for: 7d                       (after that, the peer is no longer asked)
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "gateway/config/config.h"

namespace xoev {

struct GatewaySettings final : AdapterSettings {
  std::string url;  // base URL, without a trailing '/'
  bool allow_plaintext = false;
  std::filesystem::path tls_certificate, tls_private_key, tls_ca;
  std::filesystem::path token_file;
  std::chrono::milliseconds timeout{10000};
  std::chrono::milliseconds status_poll_interval{2000};
  std::chrono::milliseconds status_poll_max_interval{std::chrono::minutes(5)};
  std::chrono::milliseconds status_follow_up_for{std::chrono::hours(24 * 7)};
};

}  // namespace xoev
