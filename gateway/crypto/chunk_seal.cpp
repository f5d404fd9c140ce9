#include "gateway/crypto/chunk_seal.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "gateway/core/routing_fields.h"
#include "gateway/crypto/base64url.h"
#include "gateway/crypto/envelope_seal.h"
#include "gateway/crypto/json_text.h"
#include "gateway/crypto/openssl_util.h"

namespace xoev::crypto {
namespace {

constexpr std::array<std::string_view, 8> kChunkMembers = {"seq",  "index",  "last",      "count",
                                                           "size", "sha256", "messageId", "abort"};
constexpr std::size_t kMaxAbortReasonChars = 512;

bool is_sha256_b64url(std::string_view text) {
  if (text.size() != 43) return false;  // 32 bytes, unpadded
  auto raw = base64url_decode(text);
  return raw && raw->size() == 32;
}

Status misbuilt(const std::string& what) { return Problem::make(ProblemKind::internal, "seal_chunk: " + what); }

Status check_claims_to_seal(const Envelope& env, const ChunkClaims& c) {
  if (!is_sequence_id(c.seq)) return misbuilt("seq is not a message-id token");
  if (c.seq != env.key) return misbuilt("seq differs from the record key");
  const std::string* id = env.find(header::message_id);
  if (id == nullptr || *id != c.seq) return misbuilt("seq differs from header xoev-message-id");
  const bool last_members = c.count != 0 || c.size != 0 || !c.sha256.empty() || !c.message_id.empty();
  if (!c.abort.empty()) {
    if (!c.last) return misbuilt("an abort record is the last record");
    if (!env.value.empty()) return misbuilt("an abort record carries no bytes");
    if (last_members) return misbuilt("an abort record has no count, size, sha256 or messageId");
    if (c.abort.size() > kMaxAbortReasonChars) return misbuilt("abort reason too long");
    return ok_status();
  }
  if (env.value.empty()) return misbuilt("a chunk is never empty");
  if (!c.last) {
    if (last_members) return misbuilt("count, size, sha256 and messageId belong on the last chunk");
    return ok_status();
  }
  if (c.count == 0 || c.count - 1 != c.index) return misbuilt("count must be index + 1");
  if (c.size < c.index + env.value.size()) return misbuilt("size is smaller than the chunks hold");
  if (!is_sha256_b64url(c.sha256)) return misbuilt("sha256 is not a base64url SHA-256");
  if (!is_sequence_id(c.message_id)) return misbuilt("messageId is not a message-id token");
  return ok_status();
}

// "chunk":{…} as members text for the protected "xoev" object.
std::string chunk_member_text(const ChunkClaims& c) {
  std::string text;
  text.reserve(256);
  JsonObjectText o(text);
  o.open("chunk").string("seq", c.seq).json("index", std::to_string(c.index)).json("last", c.last ? "true" : "false");
  if (!c.abort.empty()) {
    o.string("abort", c.abort);
  } else if (c.last) {
    o.json("count", std::to_string(c.count)).json("size", std::to_string(c.size)).string("sha256", c.sha256);
    o.string("messageId", c.message_id);
  }
  o.close().close();
  if (!o.valid()) return {};
  return std::string(members_of(text));
}

// Reads the "chunk" member; the detail of a refusal names the claim.
Result<ChunkClaims> parse_chunk_claims(const nlohmann::json& chunk) {
  auto refuse = [](const std::string& what) { return crypto_problem("protected header xoev.chunk: " + what); };
  if (!chunk.is_object()) return refuse("not an object");
  for (const auto& [name, value] : chunk.items())
    if (std::find(kChunkMembers.begin(), kChunkMembers.end(), name) == kChunkMembers.end())
      return refuse("unknown member " + printable(name, 40));
  ChunkClaims c;
  auto seq = chunk.find("seq");
  if (seq == chunk.end() || !seq->is_string()) return refuse("seq missing");
  c.seq = seq->get<std::string>();
  auto index = chunk.find("index");
  if (index == chunk.end() || !index->is_number_unsigned()) return refuse("index is not a non-negative integer");
  c.index = index->get<uint64_t>();
  auto last = chunk.find("last");
  if (last == chunk.end() || !last->is_boolean()) return refuse("last is not a boolean");
  c.last = last->get<bool>();
  const bool has_last_members =
      chunk.contains("count") || chunk.contains("size") || chunk.contains("sha256") || chunk.contains("messageId");
  if (auto abort = chunk.find("abort"); abort != chunk.end()) {
    if (!abort->is_string() || abort->get_ref<const std::string&>().empty()) return refuse("abort is not a reason");
    if (!c.last) return refuse("abort on a chunk that is not the last");
    if (has_last_members) return refuse("abort with count, size, sha256 or messageId");
    c.abort = abort->get<std::string>();
    return c;
  }
  if (!c.last) {
    if (has_last_members) return refuse("count, size, sha256 or messageId on a chunk that is not the last");
    return c;
  }
  auto count = chunk.find("count");
  auto size = chunk.find("size");
  auto sha = chunk.find("sha256");
  auto message_id = chunk.find("messageId");
  if (count == chunk.end() || !count->is_number_unsigned()) return refuse("count missing on the last chunk");
  if (size == chunk.end() || !size->is_number_unsigned()) return refuse("size missing on the last chunk");
  if (sha == chunk.end() || !sha->is_string()) return refuse("sha256 missing on the last chunk");
  if (message_id == chunk.end() || !message_id->is_string()) return refuse("messageId missing on the last chunk");
  c.count = count->get<uint64_t>();
  c.size = size->get<uint64_t>();
  c.sha256 = sha->get<std::string>();
  c.message_id = message_id->get<std::string>();
  if (c.count == 0 || c.count - 1 != c.index) return refuse("count is not index + 1");
  if (!is_sha256_b64url(c.sha256)) return refuse("sha256 is not a base64url SHA-256");
  if (!is_sequence_id(c.message_id)) return refuse("messageId is not a message-id token");
  return c;
}

Status check_against_record(const Envelope& env, const ChunkClaims& c, std::size_t plaintext_size) {
  auto refuse = [](const std::string& what) { return crypto_problem("chunk record: " + what); };
  // xoev.id equals header xoev-message-id (checked by open_verified); seq must equal both and the key.
  const std::string* id = env.find(header::message_id);
  if (!is_sequence_id(c.seq) || id == nullptr || c.seq != *id || c.seq != env.key)
    return refuse("seq does not match the record key and xoev.id");
  if (!c.abort.empty()) {
    if (plaintext_size != 0) return refuse("an abort record carries bytes");
  } else {
    if (plaintext_size == 0) return refuse("empty chunk");
    // Every earlier chunk holds at least one byte.
    if (c.last && (c.size < plaintext_size || c.size - plaintext_size < c.index))
      return refuse("size is smaller than the chunks hold");
  }
  const std::string* mirror = env.find(kChunkHeader);
  if (mirror == nullptr || *mirror != std::to_string(c.index)) return refuse("header xoev-chunk does not match the index");
  const std::string* last_mirror = env.find(kChunkLastHeader);
  if (c.last ? (last_mirror == nullptr || *last_mirror != "true") : last_mirror != nullptr)
    return refuse("header xoev-chunk-last does not match");
  return ok_status();
}

}  // namespace

bool is_sequence_id(std::string_view seq) { return is_message_id(seq); }

Status seal_chunk(Envelope& env, const ChunkClaims& claims, const KeyRing& recipient_public_keys,
                  const Jwk& gateway_signing_key) {
  if (auto s = check_claims_to_seal(env, claims); !s) return s;
  const std::string chunk = chunk_member_text(claims);
  if (chunk.empty()) return misbuilt("a chunk claim is not valid UTF-8");
  if (auto s = envelope_parts::seal_with(env, recipient_public_keys, gateway_signing_key, chunk); !s) return s;
  env.set(kChunkHeader, std::to_string(claims.index));
  env.headers.erase(std::remove_if(env.headers.begin(), env.headers.end(),
                                   [](const auto& h) { return h.first == kChunkLastHeader; }),
                    env.headers.end());
  if (claims.last) env.headers.emplace_back(std::string(kChunkLastHeader), "true");
  return ok_status();
}

Result<OpenedChunk> open_chunk(const Envelope& env, const KeyRing& trusted_gateways, const KeyRing& decryption_keys) {
  auto jwe = envelope_parts::open_verified(env, trusted_gateways, decryption_keys);
  if (!jwe) return std::move(jwe).problem();
  const auto& xoev = jwe->protected_header.at("xoev");  // an object: open_verified checked its claims
  auto chunk = xoev.find("chunk");
  if (chunk == xoev.end()) {
    cleanse(jwe->plaintext);
    return crypto_problem("protected header xoev has no chunk member: a whole message is not a chunk");
  }
  auto claims = parse_chunk_claims(*chunk);
  if (!claims) {
    cleanse(jwe->plaintext);
    return std::move(claims).problem();
  }
  if (auto s = check_against_record(env, *claims, jwe->plaintext.size()); !s) {
    cleanse(jwe->plaintext);
    return std::move(s).problem();
  }
  return OpenedChunk{std::move(jwe->plaintext), std::move(claims).value()};
}

bool is_chunk_record(const Envelope& env) { return env.find(kChunkHeader) != nullptr; }

}  // namespace xoev::crypto
