// The security part of the configuration (CONTRACTS.md §4 "Security"): TLS of the
// listener, the senders and what each may send, the admin role, the audit log. All
// optional: without `senders:` the gateway stays anonymous (and says so loudly).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/problem.h"

namespace xoev {

struct TlsSection {
  std::filesystem::path certificate;
  std::filesystem::path private_key;
  std::filesystem::path client_ca;  // empty: no mutual TLS
};

struct JwtTrustSection {
  std::string issuer;
  std::string audience;
  std::filesystem::path jwks;
};

struct MaySendRule {
  std::string standard = "*";      // glob
  std::string message_type = "*";  // glob over code or name
  std::string reader = "*";        // glob over praefix:kennung
  Location where;
};

struct SenderSection {
  std::string id;
  std::string client_certificate_sha256;   // upper-case hex with colons, or empty
  std::string client_certificate_subject;  // RFC 2253 subject, or empty
  std::optional<JwtTrustSection> jwt;      // bearer tokens of an external IdP
  std::string client_id;                   // POST /v1/token (client credentials)
  std::string client_secret_hash;          // pbkdf2-sha256$ITER$SALT$HASH (see README)
  std::vector<MaySendRule> may_send;       // empty: may send nothing
  std::vector<std::string> may_speak_for;  // globs over the autor's praefix:kennung; empty: any
  double rate_limit_per_second = 0;        // 0: unlimited
  Location where;
};

struct SecuritySection {
  std::optional<TlsSection> tls;              // gateway.tls
  bool allow_plaintext = false;               // gateway.allow_plaintext: plain HTTP on a non-loopback address
  std::vector<SenderSection> senders;         // empty: anonymous
  std::vector<std::string> admins;            // sender ids with the admin role
  std::optional<std::filesystem::path> audit_file;
  std::string token_issuer = "xoevgate";      // iss and aud of the gateway's own tokens
  std::chrono::seconds token_lifetime{900};   // at most 30 minutes
  std::chrono::seconds clock_skew{60};        // tolerated for exp/nbf of bearer tokens

  bool authenticated() const { return !senders.empty(); }
  const SenderSection* sender(std::string_view id) const;
  bool is_admin(std::string_view id) const;
};

}  // namespace xoev
