// Shared by the ingest unit tests: generated keys on disk, a config routing every
// message to one destination, and the sample XÖV message from the test data.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "adapters/outbound/file/file_settings.h"
#include "gateway/config/config.h"
#include "gateway/crypto/jwk.h"
#include "gateway/ingest/gateway_snapshot.h"
#include "tests/support/files.h"

namespace xoev::test {

inline const crypto::Jwk& gateway_key() {
  static const crypto::Jwk k = crypto::Jwk::generate(crypto::Jwk::Type::ec_p256, "gw-1", "ES256").value();
  return k;
}
inline const crypto::Jwk& destination_key() {
  static const crypto::Jwk k = crypto::Jwk::generate(crypto::Jwk::Type::x25519, "d-1", "ECDH-ES+A256KW").value();
  return k;
}

// Writes gw.jwk, gw.pub.jwk, d.jwk and d.pub.jwk into `dir` (private ones mode 0600).
inline void write_keys(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  write_file(dir / "gw.jwk", gateway_key().serialize(true));
  write_file(dir / "gw.pub.jwk", gateway_key().public_key().serialize(false));
  write_file(dir / "d.jwk", destination_key().serialize(true));
  write_file(dir / "d.pub.jwk", destination_key().public_key().serialize(false));
  for (const char* secret : {"gw.jwk", "d.jwk"})
    fs::permissions(dir / secret, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
}


// Everything to destination "standesamt" (topic xoev.standesamt), keys from write_keys.
inline Config one_destination_config(const std::filesystem::path& dir) {
  write_keys(dir);
  Config c;
  c.file = dir / "gateway.yaml";
  c.keys.signing = dir / "gw.jwk";
  c.keys.trusted_gateways = {dir / "gw.pub.jwk"};
  DestinationSection d;
  d.id = "standesamt";
  d.topic = "xoev.standesamt";
  d.encryption_keys = {dir / "d.pub.jwk"};
  d.adapter.type = "file";
  auto inbox = std::make_shared<FileSettings>();
  inbox->directory = dir / "inbox";
  d.adapter.settings = inbox;
  d.adapter.decryption_keys = {dir / "d.jwk"};
  c.destinations = {d};
  RouteSection r;
  r.name = "all";
  r.destination = "standesamt";
  c.routes = {r};
  return c;
}

// The snapshot for one_destination_config, or the test fails naming the problem.
inline std::shared_ptr<const GatewaySnapshot> one_destination_snapshot(const std::filesystem::path& dir) {
  auto s = GatewaySnapshot::build(one_destination_config(dir));
  EXPECT_TRUE(s.ok()) << s.problem().one_line();
  return s.ok() ? std::move(s).value() : nullptr;
}

// An XBeteiligung message; its id is kSampleId.
inline const char* kSampleId = "f4d3b213-1ce1-4ec5-a7b1-763ca250dcf1";
inline std::string sample_message() {
  const auto text = read_file(std::filesystem::path(XOEV_TESTDATA_DIR) / "xbeteiligung/tests/res/example402FromCockpit.xml");
  EXPECT_FALSE(text.empty()) << "test data missing under " << XOEV_TESTDATA_DIR;
  return text;
}

}  // namespace xoev::test
