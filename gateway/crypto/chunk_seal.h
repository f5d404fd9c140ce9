// Seals and opens one record of a chunked message (large_format.md, issue 10).
//
// A chunk record is a single record (envelope_seal.h) whose protected "xoev" carries
// one more member, "chunk":
//   {"seq", "index", "last": false}                                   inner chunk
//   {"seq", "index", "last": true, "count", "size", "sha256", "messageId"}  last chunk
//   {"seq", "index", "last": true, "abort": "<reason>"}               abort record
// plus the unsigned mirror headers xoev-chunk: <index> and, on the last,
// xoev-chunk-last: true (for tools and routing; the protected header is what counts).
// Every chunk is signed on its own like a single record, so each is authenticated;
// size + sha256 on the last chunk tie the whole message to the gateway signature.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/core/result.h"
#include "gateway/crypto/jwk.h"
#include "gateway/crypto/key_ring.h"
#include "gateway/kafka/envelope.h"

namespace xoev::crypto {

inline constexpr std::string_view kChunkHeader = "xoev-chunk";
inline constexpr std::string_view kChunkLastHeader = "xoev-chunk-last";

struct ChunkClaims {             // the protected "chunk" member
  std::string seq;
  uint64_t index = 0;
  bool last = false;
  uint64_t count = 0;            // last only: number of chunks
  uint64_t size = 0;             // last only: total plaintext bytes
  std::string sha256;            // last only: b64url SHA-256 of the whole plaintext
  std::string message_id;        // last only: the final message id
  std::string abort;             // non-empty: abort record (last, empty plaintext)
};

// env: topic, key (= seq) and the nine signed headers (xoev-message-id = seq) as
// seal() expects; env.value = the chunk's plaintext. Claims that contradict the
// format (seq ≠ key, count ≠ index + 1, an empty inner chunk …) are an internal
// Problem: the caller built them wrong. On failure env is left as it was.
Status seal_chunk(Envelope& env, const ChunkClaims& claims, const KeyRing& recipient_public_keys,
                  const Jwk& gateway_signing_key);

struct OpenedChunk {
  std::string plaintext;
  ChunkClaims claims;
};

// Verifies the signature, decrypts and checks the routing claims exactly as open()
// does, then the chunk claims' shape: seq == key == xoev.id, last-only members present
// exactly on the last, count == index + 1, size ≥ this chunk, the mirrors agree.
// Problems are ProblemKind::crypto; a record without "chunk" is refused.
Result<OpenedChunk> open_chunk(const Envelope& env, const KeyRing& trusted_gateways, const KeyRing& decryption_keys);

// A seq (and a final messageId) is a message-id token as routing_fields.h defines it:
// 1..128 of A-Z a-z 0-9 . _ : -, the first alphanumeric. Safe in a file name.
bool is_sequence_id(std::string_view seq);

// Cheap routing test: the xoev-chunk header is present. open_chunk() decides.
bool is_chunk_record(const Envelope& env);

}  // namespace xoev::crypto
