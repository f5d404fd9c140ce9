// The streaming inspector gives the DOM path's verdicts (same problem kind, header and
// first error line) for every sample split anywhere, keeps memory flat on a large
// document, and keeps XmlDocument::parse's safety rules.
#include "gateway/ingest/streaming_inspector.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <openssl/evp.h>

#include <array>
#include <chrono>
#include <fstream>
#include <sstream>

#include "gateway/config/config.h"
#include "gateway/ingest/gateway_snapshot.h"
#include "tests/support/files.h"

using namespace xoev;

namespace {

const fs::path kTestdata = XOEV_TESTDATA_DIR;
const fs::path kSource = XOEV_SOURCE_DIR;

// The shipped gateway.yaml: its configured xdomea standard reads the head by XPath.
std::unique_ptr<MessageInspector> make_inspector(bool with_catalog, size_t max_bytes) {
  auto loaded_config = load_config(kSource / "config/gateway.yaml");
  EXPECT_TRUE(loaded_config.ok()) << loaded_config.problem().one_line();
  Config config = loaded_config.ok() ? std::move(loaded_config).value() : Config{};
  config.schema_catalog = kSource / "schemas/catalog.yaml";
  auto adapters = make_inbound_adapters(config);
  EXPECT_TRUE(adapters.ok());
  std::shared_ptr<const SchemaCatalog> catalog;
  if (with_catalog) {
    auto loaded = load_schema_catalog(config);
    EXPECT_TRUE(loaded.ok());
    if (loaded) catalog = std::move(loaded).value();
  }
  return std::make_unique<MessageInspector>(std::move(adapters).value(), std::move(catalog), max_bytes);
}

const MessageInspector& inspector() {
  static const auto shared = make_inspector(true, 64u << 20);
  return *shared;
}

const MessageInspector& inspector_without_catalog() {
  static const auto shared = make_inspector(false, 64u << 20);
  return *shared;
}

Inspection stream(const MessageInspector& with, std::string_view bytes, size_t piece) {
  StreamingInspector s(with);
  for (size_t at = 0; at < bytes.size(); at += piece)
    if (!s.feed(bytes.substr(at, piece)).ok()) break;  // later feeds would repeat the Problem
  EXPECT_EQ(s.bytes_fed(), std::min(bytes.size(), s.bytes_fed()));
  return s.finish();
}

std::string verdict(const Inspection& i) { return i.problem ? std::string(i.problem->slug()) : "ok"; }
int first_error_line(const Inspection& i) {
  if (!i.problem) return -1;
  if (!i.problem->errors.empty()) return i.problem->errors.front().line;
  return i.problem->location ? i.problem->location->line : 0;
}

void expect_same_header(const RoutingHeader& a, const RoutingHeader& b) {
  EXPECT_EQ(a.message_id, b.message_id);
  EXPECT_EQ(a.reference, b.reference);
  EXPECT_EQ(a.message_type.list_uri, b.message_type.list_uri);
  EXPECT_EQ(a.message_type.code, b.message_type.code);
  EXPECT_EQ(a.message_type.name, b.message_type.name);
  EXPECT_EQ(a.message_type.label, b.message_type.label);
  EXPECT_EQ(a.reader, b.reader);
  EXPECT_EQ(a.author, b.author);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.standard, b.standard);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.service, b.service);
}

void expect_same_as_dom(const MessageInspector& with, const std::string& bytes, size_t piece) {
  SCOPED_TRACE("pieces of " + std::to_string(piece));
  const Inspection dom = with.inspect(bytes);
  const Inspection streamed = stream(with, bytes, piece);
  ASSERT_EQ(verdict(streamed), verdict(dom)) << (streamed.problem ? streamed.problem->one_line() : "")
                                             << " | DOM: " << (dom.problem ? dom.problem->one_line() : "");
  EXPECT_EQ(first_error_line(streamed), first_error_line(dom))
      << streamed.problem->one_line() << " | DOM: " << dom.problem->one_line();
  if (dom.problem && !dom.problem->errors.empty() && !streamed.problem->errors.empty()) {
    EXPECT_EQ(streamed.problem->errors.front().element, dom.problem->errors.front().element);
  }
  EXPECT_EQ(streamed.root, dom.root);
  EXPECT_EQ(streamed.schema, dom.schema);
  EXPECT_EQ(streamed.adapter, dom.adapter);
  EXPECT_EQ(streamed.validated, dom.validated);
  expect_same_header(streamed.header, dom.header);
}

std::vector<fs::path> samples() {
  std::vector<fs::path> out;
  std::ifstream in(kTestdata / "verdicts.tsv");
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) out.push_back(kTestdata / line.substr(0, line.find('\t')));
  return out;
}

std::string replaced_last(std::string s, const std::string& what, const std::string& with) {
  const auto at = s.rfind(what);
  EXPECT_NE(at, std::string::npos) << what;
  if (at != std::string::npos) s.replace(at, what.size(), with);
  return s;
}

int line_at(const std::string& s, size_t offset) {
  return 1 + static_cast<int>(std::count(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

// Bytes the allocator holds now (small blocks in the arenas plus mmapped big ones).
size_t heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

fs::path large_xdomea(const fs::path& dir, int megabytes) {
  const fs::path out = dir / ("xdomea-" + std::to_string(megabytes) + "mb.xml");
  const std::string cmd = "/usr/bin/python3 " + (kSource / "tests/tools/large_xdomea.py").string() + " " +
                          std::to_string(megabytes) + " " + out.string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return out;
}

const char* kXBeteiligung = "xbeteiligung/tests/res/example402FromCockpit.xml";

}  // namespace

TEST(StreamingInspector, SameVerdictHeaderAndFirstErrorLineAsTheDomPathForEverySample) {
  const auto files = samples();
  ASSERT_GT(files.size(), 200u);
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    const std::string bytes = test::read_file(file);
    for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}, size_t{65536}}) {
      if (piece == 1 && bytes.size() > (256u << 10)) continue;  // a few big invoices: 7 covers the splits
      expect_same_as_dom(inspector(), bytes, piece);
    }
  }
}

TEST(StreamingInspector, SameVerdictForBrokenAndInvalidVariantsOfASample) {
  const std::string good = test::read_file(kTestdata / kXBeteiligung);
  const std::vector<std::string> variants = {
      good.substr(0, good.rfind('>')),                                 // malformed at the end
      replaced_last(good, ">", ">\xff"),                                // not UTF-8
      good.substr(0, good.size() / 2),                                  // truncated
      replaced_last(good, "</xbeteiligung:", "<xbeteiligung:unerwartet/></xbeteiligung:"),  // schema
      good + "<zweite/>",                                               // content after the root
      "",                                                               // empty
      "   \n",                                                          // no root
  };
  for (size_t v = 0; v < variants.size(); ++v) {
    SCOPED_TRACE("variant " + std::to_string(v));
    for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}}) expect_same_as_dom(inspector(), variants[v], piece);
  }
}

TEST(StreamingInspector, ASchemaErrorAfterAFineHeadStopsTheParse) {
  // Known difference from the DOM path: the bytes after the first schema error are not
  // parsed (the upload is refused at once), so a later well-formedness error is not seen.
  const std::string good = test::read_file(kTestdata / kXBeteiligung);
  std::string both = replaced_last(good, "</xbeteiligung:", "<xbeteiligung:unerwartet/>" + std::string(200, ' ') + "</xbeteiligung:");
  both = both.substr(0, both.rfind('>'));
  EXPECT_EQ(inspector().inspect(both).problem->kind, ProblemKind::malformed_xml);
  StreamingInspector s(inspector());
  Status fed = ok_status();
  for (size_t at = 0; at < both.size() && fed.ok(); at += 64) fed = s.feed(std::string_view(both).substr(at, 64));
  ASSERT_FALSE(fed.ok());
  EXPECT_EQ(fed.problem().kind, ProblemKind::schema_invalid);
  const Inspection done = s.finish();
  ASSERT_TRUE(done.problem);
  EXPECT_EQ(done.problem->kind, ProblemKind::schema_invalid);
}

TEST(StreamingInspector, HeadIsUnknownUntilTheMessageHeadClosesThenMatchesFinish) {
  const std::string bytes = test::read_file(kTestdata / kXBeteiligung);
  const size_t head_end = bytes.find("</bn-g2g:nachrichtenkopf.g2g>");
  ASSERT_NE(head_end, std::string::npos);
  StreamingInspector s(inspector());
  for (size_t at = 0; at < head_end; at += 100) {
    ASSERT_TRUE(s.feed(std::string_view(bytes).substr(at, std::min<size_t>(100, head_end - at))).ok());
    EXPECT_FALSE(s.head().has_value()) << "at byte " << at;
  }
  const size_t rest = bytes.find('>', head_end) + 1;
  ASSERT_TRUE(s.feed(std::string_view(bytes).substr(head_end, rest - head_end)).ok());
  const auto head = s.head();
  ASSERT_TRUE(head.has_value());
  ASSERT_TRUE(head->ok()) << head->problem().one_line();
  ASSERT_TRUE(s.feed(std::string_view(bytes).substr(rest)).ok());
  const Inspection done = s.finish();
  ASSERT_FALSE(done.problem) << done.problem->one_line();
  expect_same_header(head->value(), done.header);
  expect_same_header(done.header, inspector().inspect(bytes).header);
}

// The streamed submission signs the inspector's digest of the body (it no longer hashes
// the bytes a second time): it must be exactly SHA-256 of every byte, however split,
// also when finish() then refuses the body (the audit line names the refused bytes),
// and absent when a feed failed (the hash stopped there).
TEST(StreamingInspector, BodySha256IsTheDigestOfEveryByteFedWhateverThePieces) {
  const std::string good = test::read_file(kTestdata / kXBeteiligung);
  const std::string unfinished = good.substr(0, good.rfind("</"));  // malformed, seen only by finish()
  for (const std::string* body : {&good, &unfinished}) {
    std::array<unsigned char, 32> expected{};
    unsigned int len = 0;
    ASSERT_EQ(EVP_Digest(body->data(), body->size(), expected.data(), &len, EVP_sha256(), nullptr), 1);
    for (size_t piece : {size_t{1}, size_t{333}, body->size()}) {
      SCOPED_TRACE("piece " + std::to_string(piece));
      StreamingInspector s(inspector());
      Status fed = ok_status();
      for (size_t at = 0; at < body->size() && fed.ok(); at += piece) fed = s.feed(std::string_view(*body).substr(at, piece));
      ASSERT_TRUE(fed.ok()) << fed.problem().one_line();
      EXPECT_FALSE(s.body_sha256().has_value()) << "known before finish()";
      const Inspection done = s.finish();
      EXPECT_EQ(done.problem.has_value(), body != &good);
      ASSERT_TRUE(s.body_sha256().has_value());
      EXPECT_EQ(*s.body_sha256(), expected);
    }
  }
  StreamingInspector failed(inspector());
  ASSERT_FALSE(failed.feed("<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e \"e\">]><x/>").ok());
  (void)failed.finish();
  EXPECT_FALSE(failed.body_sha256().has_value());
}

TEST(StreamingInspector, LargeXdomeaStreamsValidWithFlatMemory) {
  test::TempDir dir;
  const fs::path file = large_xdomea(dir.path, 20);
  ASSERT_GT(fs::file_size(file), 20u << 20);
  std::ifstream in(file, std::ios::binary);
  std::vector<char> piece(64u << 10);
  StreamingInspector s(inspector());
  const size_t before = heap_in_use();
  size_t peak = before;
  const auto started = std::chrono::steady_clock::now();
  std::optional<Result<RoutingHeader>> head;
  while (in.read(piece.data(), static_cast<std::streamsize>(piece.size())) || in.gcount() > 0) {
    ASSERT_TRUE(s.feed(std::string_view(piece.data(), static_cast<size_t>(in.gcount()))).ok());
    if (!head) head = s.head();
    peak = std::max(peak, heap_in_use());
  }
  ASSERT_TRUE(head.has_value()) << "the head is in the first 64 KiB";
  ASSERT_TRUE(head->ok()) << head->problem().one_line();
  const Inspection done = s.finish();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  ASSERT_FALSE(done.problem) << done.problem->one_line();
  EXPECT_TRUE(done.validated);
  EXPECT_EQ(done.header.standard, "xdomea");
  EXPECT_EQ(done.header.version, "3.0.0");
  EXPECT_EQ(done.header.message_id, "6f1c2a4e-3b5d-4e8f-9a0b-1c2d3e4f5a6b-0503");
  EXPECT_EQ(done.header.reader, "psw:01003110");
  EXPECT_EQ(done.header.message_type.code, "0503");
  expect_same_header(head->value(), done.header);
  EXPECT_EQ(s.bytes_fed(), fs::file_size(file));
  const size_t growth = peak - before;
  EXPECT_LT(growth, 32u << 20) << "peak heap growth " << (growth >> 20) << " MiB for a 20 MiB document";
  // This skeleton is a few hundred KiB (its head and 20 capped documents); kept text would
  // be ~28 MiB (libxml2's text nodes), the 8 MiB skeleton budget alone still 10+.
  EXPECT_LT(growth, 4u << 20) << "peak heap growth " << (growth >> 10) << " KiB";
  std::printf("streaming 20 MiB xdomea: %lld ms, peak heap growth %zu KiB\n", static_cast<long long>(took.count()),
              growth >> 10);
}

TEST(StreamingInspector, ErrorNearTheEndOfALargeDocumentNamesItsLine) {
  test::TempDir dir;
  const fs::path generated = large_xdomea(dir.path, 3);
  // The generator's output is valid for xmllint too (through the shipped OASIS catalog).
  const std::string xmllint = "XML_CATALOG_FILES=" + (kSource / "schemas/catalog.xml").string() +
                              " xmllint --nonet --noout --stream --schema " +
                              (kSource / "schemas/xoev/xdomea/xdomea_3.0.0/xdomea-Nachrichten-AussonderungDurchfuehren.xsd")
                                  .string() +
                              " " + generated.string() + " 2>/dev/null";
  EXPECT_EQ(std::system(xmllint.c_str()), 0) << xmllint;
  const std::string good = test::read_file(generated);
  const size_t nummer = good.rfind("<xdomea:Nummer>1</xdomea:Nummer>");
  const size_t dokument_end = good.rfind("</xdomea:Dokument>");
  const size_t content = good.rfind("\n        </inhalt:Datei>") - 10;  // in the last base64 line
  struct Case {
    std::string bytes;
    std::string kind;
    int line;
  };
  std::vector<Case> cases;
  {
    std::string b = good;
    b.replace(nummer, 32, "<xdomea:Nummer>1</xdomea:Numme>");
    cases.push_back({b, "malformed-xml", line_at(good, nummer)});
  }
  {
    std::string b = good;
    b[content] = '\xff';
    cases.push_back({b, "malformed-xml", line_at(good, content)});
  }
  {
    std::string b = good;
    b.insert(dokument_end, "<xdomea:Unerwartet/>");
    cases.push_back({b, "schema-invalid", line_at(good, dokument_end)});
  }
  for (const auto& c : cases) {
    SCOPED_TRACE(c.kind + " at line " + std::to_string(c.line));
    const Inspection streamed = stream(inspector(), c.bytes, 64u << 10);
    ASSERT_TRUE(streamed.problem);
    EXPECT_EQ(streamed.problem->slug(), c.kind) << streamed.problem->one_line();
    EXPECT_EQ(first_error_line(streamed), c.line) << streamed.problem->one_line();
    expect_same_as_dom(inspector(), c.bytes, 64u << 10);
  }
}

TEST(StreamingInspector, DoctypeAndEntitiesAreRefusedAsByTheDomPath) {
  const std::vector<std::string> attacks = {
      "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n<x>&e;</x>",
      "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
      "<x>&b;&b;&b;</x>",
      "<!DOCTYPE x SYSTEM \"http://127.0.0.1:9/x.dtd\"><x/>",
      "<x>&undeclared;</x>",
  };
  for (const auto& a : attacks) {
    SCOPED_TRACE(a);
    for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}}) {
      const Inspection i = stream(inspector(), a, piece);
      ASSERT_TRUE(i.problem);
      EXPECT_EQ(i.problem->kind, ProblemKind::malformed_xml) << i.problem->one_line();
      expect_same_as_dom(inspector(), a, piece);
    }
  }
  const Inspection doctype = stream(inspector(), attacks[0], 5);
  EXPECT_NE(doctype.problem->detail.find("DOCTYPE"), std::string::npos) << doctype.problem->detail;
  StreamingInspector s(inspector());
  const Status first = s.feed(attacks[0]);
  ASSERT_FALSE(first.ok());
  const Status again = s.feed("<more/>");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.problem().detail, first.problem().detail);
}

TEST(StreamingInspector, DepthBombIsRefusedFastAndAtTheDomPathsDepth) {
  std::string bomb;
  for (int i = 0; i < 100000; ++i) bomb += "<a>";
  // Loaded before the clock starts: ctest runs each test in a process of its own, and
  // compiling every shipped schema (under ASan, beside other tests) took 1.08 s of the 1.
  const MessageInspector& with_schemas = inspector();
  const auto start = std::chrono::steady_clock::now();
  const Inspection i = stream(with_schemas, bomb, 4096);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  ASSERT_TRUE(i.problem);
  EXPECT_EQ(i.problem->kind, ProblemKind::malformed_xml);
  for (int depth : {256, 257, 258}) {
    std::string nested;
    for (int d = 0; d < depth; ++d) nested += "<a>";
    for (int d = 0; d < depth; ++d) nested += "</a>";
    SCOPED_TRACE("depth " + std::to_string(depth));
    expect_same_as_dom(inspector_without_catalog(), nested, 7);
  }
}

TEST(StreamingInspector, DepthIsBoundedPastTheSkeletonCapToo) {
  std::string doc = "<r>";
  for (size_t i = 0; i < kMaxSkeletonElements + 10; ++i) doc += "<e/>";
  for (int d = 0; d < 300; ++d) doc += "<a>";
  const Inspection i = stream(inspector_without_catalog(), doc, 65536);
  ASSERT_TRUE(i.problem);
  EXPECT_EQ(i.problem->kind, ProblemKind::malformed_xml) << i.problem->one_line();
  EXPECT_NE(i.problem->detail.find("depth"), std::string::npos) << i.problem->detail;
}

TEST(StreamingInspector, TooManyAttributesAreRefusedWhereverThePiecesSplit) {
  std::string tag = "<x>\n  <y";
  for (size_t i = 0; i < kMaxXmlAttributesPerElement + 1; ++i) tag += " a" + std::to_string(i) + "='v>'";
  tag += "/>\n</x>";
  for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}}) {
    const Inspection i = stream(inspector(), tag, piece);
    ASSERT_TRUE(i.problem);
    EXPECT_NE(i.problem->detail.find("attributes"), std::string::npos) << i.problem->detail;
    EXPECT_EQ(i.problem->location->line, 2);
    EXPECT_EQ(i.problem->location->column, 3);
    expect_same_as_dom(inspector(), tag, piece);
  }
}

TEST(StreamingInspector, HeadBeyondTheSkeletonCapIsRefusedNotRoutedWrongly) {
  // The DOM path finds this head; the streaming skeleton stops before it and says why.
  const std::string sample = test::read_file(kTestdata / kXBeteiligung);
  const size_t root_open = sample.find('>', sample.find("<xbeteiligung:")) + 1;
  std::string filler;
  for (size_t i = 0; i < kMaxSkeletonElements; ++i) filler += "<f/>";
  const std::string late_head = sample.substr(0, root_open) + filler + sample.substr(root_open);
  ASSERT_FALSE(inspector_without_catalog().inspect(late_head).problem);
  StreamingInspector s(inspector_without_catalog());
  for (size_t at = 0; at < late_head.size(); at += 65536)
    ASSERT_TRUE(s.feed(std::string_view(late_head).substr(at, 65536)).ok());
  const auto head = s.head();
  ASSERT_TRUE(head.has_value());
  ASSERT_FALSE(head->ok());
  const Inspection i = s.finish();
  ASSERT_TRUE(i.problem);
  EXPECT_EQ(i.problem->kind, ProblemKind::missing_routing_header);
  EXPECT_NE(i.problem->detail.find("near the start"), std::string::npos) << i.problem->detail;
}

TEST(StreamingInspector, PayloadOverTheLimitIsRefusedAsItArrives) {
  const auto small = make_inspector(false, 1000);
  StreamingInspector s(*small);
  EXPECT_TRUE(s.feed(std::string(600, ' ')).ok());
  const Status over = s.feed(std::string(600, ' '));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.problem().kind, ProblemKind::payload_too_large);
}

TEST(StreamingInspector, EqualsSignsInCommentsCdataAndPisAreNoAttributes) {
  std::string many;
  for (size_t i = 0; i < kMaxXmlAttributesPerElement + 5; ++i) many += " a" + std::to_string(i) + "='-]?>'";
  const std::string doc = "<?pi" + many + "?>\n<!--" + many + "-->\n<x><![CDATA[" + many + "]]><!DOCTYPE-ish" +
                          "</x>\n<!---->";
  for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{4096}}) {
    SCOPED_TRACE(piece);
    AttributeCountScanner scanner;
    std::optional<Location> hit;
    for (size_t at = 0; at < doc.size() && !hit; at += piece) hit = scanner.scan(std::string_view(doc).substr(at, piece));
    EXPECT_FALSE(hit.has_value()) << hit->line << ":" << hit->column;
    expect_same_as_dom(inspector_without_catalog(), doc, piece);
  }
  AttributeCountScanner scanner;
  const auto hit = scanner.scan("<!-- x -->\n<!---->\n  <y" + many + "/>");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->line, 3);
  EXPECT_EQ(hit->column, 3);
}

TEST(StreamingInspector, AnEncodingErrorMidwayIsMalformedNotATruncatedHead) {
  // Found by fuzz_streaming_xml: iconv fails midway and libxml2 halts without marking
  // the document not well-formed; the skeleton then lacks the head.
  std::string doc = test::read_file(kTestdata / kXBeteiligung);
  doc.replace(doc.find("UTF-8"), 5, "UTF-7");
  doc.insert(doc.find("</bn-g2g:nachrichtenkopf.g2g>") - 200, "\x89   ");
  for (size_t piece : {size_t{7}, size_t{4096}}) {
    const Inspection i = stream(inspector(), doc, piece);
    ASSERT_TRUE(i.problem);
    EXPECT_EQ(i.problem->kind, ProblemKind::malformed_xml) << i.problem->one_line();
    expect_same_as_dom(inspector(), doc, piece);
  }
}
