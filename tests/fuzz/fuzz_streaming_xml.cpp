// The streaming inspector against the DOM path on hostile bodies split anywhere: the
// first bytes choose where the body is cut into pieces, the rest is the body. Both
// inspect with the built-in adapters and the shipped schema catalog; the verdict
// (problem kind or ok) and the header must be the same.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/inbound/xinneres/xinneres_adapter.h"
#include "adapters/inbound/xoev_g2g/xoev_g2g_adapter.h"
#include "adapters/inbound/xrechnung/xrechnung_adapter.h"
#include "gateway/ingest/message_inspector.h"
#include "gateway/ingest/streaming_inspector.h"

namespace {

const xoev::MessageInspector& inspector() {
  static const auto* shared = [] {
    auto catalog = xoev::SchemaCatalog::load(std::string(XOEV_SOURCE_DIR) + "/schemas/catalog.yaml");
    if (!catalog) {
      std::fprintf(stderr, "cannot load the schema catalog: %s\n", catalog.problem().one_line().c_str());
      std::abort();
    }
    return new xoev::MessageInspector(
        {xoev::make_xoev_g2g_adapter(), xoev::make_xinneres_adapter(), xoev::make_xrechnung_adapter()},
        std::move(catalog).value(), 1u << 20);
  }();
  return *shared;
}

std::string verdict(const xoev::Inspection& i) { return i.problem ? i.problem->slug() : "ok"; }

// "…: 'V' is not a valid value of the atomic type 'xs:ID'." where V, quoted, occurs at
// least twice in the body: the duplicate-ID verdict only a tree can give.
bool is_duplicate_id_error(std::string_view detail, std::string_view body) {
  constexpr std::string_view tail = "' is not a valid value of the atomic type 'xs:ID'";
  const size_t end = detail.find(tail);
  if (end == std::string_view::npos) return false;
  const size_t start = detail.rfind(": '", end);
  if (start == std::string_view::npos) return false;
  const std::string_view value = detail.substr(start + 3, end - start - 3);
  if (value.empty()) return false;
  size_t count = 0;
  for (const char quote : {'"', '\''}) {
    const std::string quoted = std::string(1, quote) + std::string(value) + quote;
    for (size_t at = body.find(quoted); at != std::string_view::npos; at = body.find(quoted, at + 1)) ++count;
  }
  return count >= 2;
}

[[noreturn]] void differs(const char* what, const xoev::Inspection& dom, const xoev::Inspection& streamed) {
  std::fprintf(stderr, "streaming differs from DOM in %s\n  DOM:       %s\n  streaming: %s\n", what,
               dom.problem ? dom.problem->one_line().c_str() : "ok",
               streamed.problem ? streamed.problem->one_line().c_str() : "ok");
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Layout: n (0..15), then n 16-bit piece lengths, then the body (cut after those pieces
  // into 4096-byte pieces).
  if (size < 1) return 0;
  const size_t cuts = data[0] % 16;
  if (size < 1 + 2 * cuts) return 0;
  std::vector<size_t> pieces;
  for (size_t i = 0; i < cuts; ++i) pieces.push_back(size_t{data[1 + 2 * i]} | size_t{data[2 + 2 * i]} << 8);
  const std::string_view body(reinterpret_cast<const char*>(data) + 1 + 2 * cuts, size - 1 - 2 * cuts);

  const xoev::Inspection dom = inspector().inspect(body);
  xoev::StreamingInspector streaming(inspector());
  std::string_view rest = body;
  size_t next = 0;
  while (!rest.empty()) {
    const size_t n = std::min(rest.size(), next < pieces.size() ? pieces[next++] : size_t{4096});
    if (!streaming.feed(rest.substr(0, n)).ok()) break;
    (void)streaming.head();
    rest.remove_prefix(n);
  }
  const xoev::Inspection streamed = streaming.finish();

  // The one documented difference: after a schema error behind a fine head the stream
  // stops, so a later well-formedness error is not seen.
  const bool stopped_early = streamed.problem && streamed.problem->kind == xoev::ProblemKind::schema_invalid &&
                             dom.problem && dom.problem->kind == xoev::ProblemKind::malformed_xml;
  // And libxml2's pull parser (the DOM path) takes a NUL byte after the root element as
  // the end of the input, ignoring whatever follows; the push parser refuses it.
  const bool nul_after_root = streamed.problem && streamed.problem->kind == xoev::ProblemKind::malformed_xml &&
                              body.find('\0') != std::string_view::npos;
  // And libxml2 checks that xs:ID values are unique only against a tree (xmlAddID needs
  // the attribute node), so the stream accepts a document whose only fault is an ID
  // used twice; the README says so. Any other difference still counts.
  const bool duplicate_id = !streamed.problem && dom.problem && dom.problem->kind == xoev::ProblemKind::schema_invalid &&
                            is_duplicate_id_error(dom.problem->detail, body);
  if (verdict(dom) != verdict(streamed) && !stopped_early && !nul_after_root && !duplicate_id)
    differs("verdict", dom, streamed);
  if (!dom.problem && (dom.header.message_id != streamed.header.message_id || dom.header.reader != streamed.header.reader ||
                       dom.header.author != streamed.header.author || dom.header.standard != streamed.header.standard ||
                       dom.header.message_type.code != streamed.header.message_type.code))
    differs("header", dom, streamed);
  return 0;
}
