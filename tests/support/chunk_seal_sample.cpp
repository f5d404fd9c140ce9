// Writes sealed chunk records for tests/integration/test_chunk_interop.py, which
// checks them with an independent JOSE implementation (jwcrypto).
//   chunk_seal_sample <dir>
// writes <dir>/gateway.jwk (the public signing key) and, per recipient key type
// (p256, x25519, rsa): <label>.recipient.jwk (private) and <label>.records.json,
// the records of one chunked message and of one aborted sequence:
//   [{"key", "headers": [[name, value], …], "value"}, …]
#include <openssl/evp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway/crypto/base64url.h"
#include "gateway/crypto/chunk_seal.h"

namespace {

using namespace xoev;
using namespace xoev::crypto;

constexpr size_t kChunkBytes = 16 * 1024;

Envelope envelope_for(const std::string& seq, std::string plaintext) {
  Envelope env;
  env.topic = "xoev.bau.06414000";
  env.key = seq;
  env.value = std::move(plaintext);
  env.headers = {{std::string(header::message_id), seq},
                 {std::string(header::message_type), "xbau.0200"},
                 {std::string(header::standard), "xbau"},
                 {std::string(header::sender), "psw:06412000"},
                 {std::string(header::recipient), "psw:06414000"},
                 {std::string(header::destination), "bauamt-wiesbaden"},
                 {std::string(header::accepted_at), "2026-11-30T14:44:05Z"},
                 {std::string(header::content_type), "application/xml"},
                 {std::string(header::traceparent), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}};
  return env;
}

nlohmann::json record_json(const Envelope& env) {
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [k, v] : env.headers) headers.push_back({k, v});
  return {{"key", env.key}, {"headers", headers}, {"value", env.value}};
}

std::string message_text() {
  // 3.4 chunks of XML with UTF-8 in it, so no chunk border respects characters.
  std::string text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><xbau:antrag>";
  for (int i = 0; text.size() < kChunkBytes * 3 + kChunkBytes * 2 / 5; ++i)
    text += "<anlage nr=\"" + std::to_string(i) + "\">Grundriss Erdgeschoß – Maßstab 1:100 ÄÖÜ €</anlage>";
  return text + "</xbau:antrag>";
}

bool write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

int fail(const std::string& what) {
  std::fprintf(stderr, "chunk_seal_sample: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return fail("usage: chunk_seal_sample <dir>");
  const std::filesystem::path dir = argv[1];
  auto gateway = Jwk::generate(Jwk::Type::ec_p256, "gateway-sig", "ES256");
  if (!gateway) return fail(gateway.problem().one_line());
  if (!write(dir / "gateway.jwk", gateway->serialize(false))) return fail("cannot write gateway.jwk");
  const std::string whole = message_text();
  unsigned char md[32];
  unsigned int md_len = 0;
  EVP_Digest(whole.data(), whole.size(), md, &md_len, EVP_sha256(), nullptr);
  const std::string digest = base64url_encode({reinterpret_cast<char*>(md), md_len});

  const std::vector<std::tuple<std::string, Jwk::Type, unsigned>> recipients = {
      {"p256", Jwk::Type::ec_p256, 0}, {"x25519", Jwk::Type::x25519, 0}, {"rsa", Jwk::Type::rsa, 3072}};
  for (const auto& [label, type, bits] : recipients) {
    auto key = Jwk::generate(type, label + "-enc", type == Jwk::Type::rsa ? "RSA-OAEP-256" : "ECDH-ES+A256KW",
                             bits ? bits : 4096);
    if (!key) return fail(key.problem().one_line());
    KeyRing ring;
    if (!ring.add(key->public_key())) return fail("key ring");
    nlohmann::json records = nlohmann::json::array();
    const std::string seq = "4e1f0c9a-3b7d-4a51-9c2e-8f6d0b1a2c3d";
    const size_t count = (whole.size() + kChunkBytes - 1) / kChunkBytes;
    for (size_t i = 0; i < count; ++i) {
      Envelope env = envelope_for(seq, whole.substr(i * kChunkBytes, kChunkBytes));
      ChunkClaims c;
      c.seq = seq;
      c.index = i;
      c.last = i + 1 == count;
      if (c.last) {
        c.count = count;
        c.size = whole.size();
        c.sha256 = digest;
        c.message_id = "xbau-final-" + label;
      }
      if (auto s = seal_chunk(env, c, ring, *gateway); !s) return fail(s.problem().one_line());
      records.push_back(record_json(env));
    }
    // An aborted sequence: one chunk, then the abort record.
    const std::string aborted = "9a8b7c6d-aborted-" + label;
    Envelope first = envelope_for(aborted, whole.substr(0, kChunkBytes));
    ChunkClaims c0;
    c0.seq = aborted;
    if (auto s = seal_chunk(first, c0, ring, *gateway); !s) return fail(s.problem().one_line());
    records.push_back(record_json(first));
    Envelope abort = envelope_for(aborted, "");
    ChunkClaims ca;
    ca.seq = aborted;
    ca.index = 1;
    ca.last = true;
    ca.abort = "sender disconnected";
    if (auto s = seal_chunk(abort, ca, ring, *gateway); !s) return fail(s.problem().one_line());
    records.push_back(record_json(abort));
    if (!write(dir / (label + ".recipient.jwk"), key->serialize(true)) ||
        !write(dir / (label + ".records.json"), records.dump()))
      return fail("cannot write " + label);
  }
  return 0;
}
