// Reads the security keys (gateway.tls, gateway.allow_plaintext, senders:, admins:,
// tokens:, audit:) for config_loader.cpp, in their own file so the loader only calls it.
#pragma once

#include <yaml-cpp/yaml.h>

#include "gateway/config/yaml_reader.h"
#include "gateway/config/security_config.h"

namespace xoev::config_detail {

inline constexpr const char* kSecurityTopLevelKeys[] = {"senders", "admins", "tokens", "audit"};
inline constexpr const char* kSecurityGatewayKeys[] = {"tls", "allow_plaintext"};

// `listen` is the gateway's listen address: plain HTTP on a non-loopback address is
// refused unless gateway.allow_plaintext is true.
void read_security(YamlReader& r, const YAML::Node& root, const std::string& listen, SecuritySection& out);

// {certificate, private_key, client_ca} with the files checked; `what` names it in errors.
std::optional<TlsSection> read_tls_section(YamlReader& r, const YAML::Node& n, const std::string& what);

// "ab:cd…" or "abcd…" → "AB:CD:…" (as PeerCertificate::sha256); empty unless 32 bytes of hex.
std::string normalize_fingerprint(const std::string& text);

// 127.0.0.0/8, ::1 and localhost.
bool is_loopback_listen(const std::string& listen);

}  // namespace xoev::config_detail
