// MessageInspector for bodies that arrive in pieces and may be hundreds of MB: the
// bytes go through libxml2's push parser with the schema's validation plugged into
// the SAX stream (every byte validated, nothing held whole), and the SAX events below
// the plug build a skeleton DOM — every element and attribute up to a cap, each text
// capped — on which the unchanged inbound adapters and SchemaCatalog::find run.
// Memory stays bounded by the caps, whatever the body's size. The safety rules are
// XmlDocument::parse's: DOCTYPE refused, no external entities, no network, depth and
// attribute-count bounds; errors are reported exactly as the DOM path reports them.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "gateway/core/result.h"
#include "gateway/core/routing_header.h"
#include "gateway/ingest/message_inspector.h"

namespace xoev {

// The skeleton's caps. A routing field must lie within the first kMaxSkeletonElements
// elements; text beyond kMaxSkeletonTextPerNode bytes of one node (base64 content) is
// dropped from the skeleton, never from validation.
inline constexpr size_t kMaxSkeletonElements = 50'000;
inline constexpr size_t kMaxSkeletonTextPerNode = 4096;
inline constexpr size_t kMaxSkeletonBytes = 8u << 20;  // text and attribute values kept in all
// The root start tag must begin within this many bytes (the schema is chosen by it).
inline constexpr size_t kMaxPrologBytes = 1u << 20;

// One per large submission; not thread-safe, may move between threads (not during a call).
class StreamingInspector {
 public:
  // `inspector` (its adapters and catalog) must outlive this.
  explicit StreamingInspector(const MessageInspector& inspector);
  // With its own size limit: the inspector's is that of a single record, a streamed
  // body's is gateway.max_message_bytes.
  StreamingInspector(const MessageInspector& inspector, uint64_t max_bytes);
  ~StreamingInspector();
  StreamingInspector(StreamingInspector&&) noexcept;
  StreamingInspector& operator=(StreamingInspector&&) noexcept;

  // The next bytes of the body, split anywhere (also inside a tag or a UTF-8 sequence).
  // After a Problem (malformed XML, schema error, DOCTYPE, limits) every later call
  // returns the same Problem at once.
  Status feed(std::string_view bytes);

  // The routing header as far as the bytes so far show it: nullopt while the head may
  // still change, else the header (message_id empty when it is derived from the whole
  // body: finish() has it) or the Problem once it is certain (the document is complete,
  // the skeleton cap is reached, or feed failed before any head was found).
  std::optional<Result<RoutingHeader>> head();

  // End of body: completes parsing and validation; the Inspection as
  // MessageInspector::inspect gives it. Call once.
  Inspection finish();

  uint64_t bytes_fed() const;

  // The SHA-256 of every byte fed, once finish() ran and no feed failed (a failed feed
  // stops hashing); nullopt otherwise. The streamed submission signs this digest: the
  // inspector hashes the body anyway (for a derived message id), once is enough.
  std::optional<std::array<unsigned char, 32>> body_sha256() const;

 private:
  class State;
  std::unique_ptr<State> state_;
};

}  // namespace xoev
