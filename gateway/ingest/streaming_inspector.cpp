#include "gateway/ingest/streaming_inspector.h"

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlschemas.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "gateway/core/xml_document.h"
#include "gateway/schema/validation_errors.h"

namespace xoev {
namespace {

// libxml2's xmlParserMaxDepth without XML_PARSE_HUGE: it refuses an element when
// that many are already open. The skeleton's nodePush checks it while elements are
// built; past the element cap this check stands in for it.
constexpr int kMaxOpenElements = 256;
// XmlDocument::parse's options: no NOENT, no DTD loading, no XINCLUDE, no HUGE.
constexpr int kParseOptions = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES;
// head() runs the adapters with this id while the real one (the SHA-256 of all bytes)
// is unknown, and reports it as empty.
constexpr const char* kPendingId = "00000000-0000-8000-8000-000000000000";
// xmlParseChunk takes an int.
constexpr size_t kMaxPush = 1u << 30;

struct ParserFree {
  void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};
struct ValidCtxtFree {
  void operator()(xmlSchemaValidCtxt* c) const { xmlSchemaFreeValidCtxt(c); }
};
struct DigestFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// The longest prefix of [p, p+len) of at most `cap` bytes that ends neither inside a
// UTF-8 sequence nor inside a character reference (libxml2 keeps '&' in attribute
// values as "&#38;" and decodes it again when it builds the attribute).
size_t cut(const xmlChar* p, size_t len, size_t cap) {
  if (len <= cap) return len;
  size_t n = cap;
  while (n > 0 && (p[n] & 0xC0) == 0x80) --n;
  for (size_t i = n; i > 0 && n - i < 16; --i) {
    if (p[i - 1] == ';') break;
    if (p[i - 1] == '&') return i - 1;
  }
  return n;
}

}  // namespace

class StreamingInspector::State {
 public:
  State(const MessageInspector& inspector, uint64_t max_bytes)
      : inspector_(inspector), max_bytes_(max_bytes), digest_(EVP_MD_CTX_new()) {
    xml_global_init();
    EVP_DigestInit_ex(digest_.get(), EVP_sha256(), nullptr);
    errors_.current_element = [](void* self) -> const xmlNode* { return static_cast<State*>(self)->current_; };
    errors_.current_line = [](void* self) {
      const xmlParserCtxt* c = static_cast<State*>(self)->parser_.get();
      return c != nullptr && c->input != nullptr ? c->input->line : 0;
    };
    errors_.current_user = this;
  }

  ~State() { close_parser(); }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  Status feed(std::string_view bytes) {
    if (problem_) return *problem_;
    if (finished_) return Problem::make(ProblemKind::internal, "feed after finish");
    const auto start = std::chrono::steady_clock::now();
    feed_bytes(bytes);
    busy_ += std::chrono::steady_clock::now() - start;
    if (problem_) return *problem_;
    return ok_status();
  }

  std::optional<Result<RoutingHeader>> head() {
    if (head_) return head_;
    if (problem_ && !schema_failed_) return head_ = Result<RoutingHeader>(*problem_);  // final
    if (!skeleton_) return schema_failed_ ? (head_ = Result<RoutingHeader>(*problem_)) : std::nullopt;
    // The skeleton grows no more once the document is complete, cut off, or stopped.
    const bool complete = root_closed_ || capped_ || schema_failed_;
    // The adapters run when a child of the root has closed (the head is one, or lies in
    // the first ones): after each of the first 16, then at powers of two, so a document
    // of many small children costs a few runs only.
    const bool due = root_children_closed_ != evaluated_at_ &&
                     (root_children_closed_ <= 16 ||
                      std::bit_width(root_children_closed_) > std::bit_width(evaluated_at_));
    if (!due && !complete) return std::nullopt;
    evaluated_at_ = root_children_closed_;
    Inspection probe;
    if (inspector_.inspect_head(*skeleton_, [] { return std::string(kPendingId); }, probe)) {
      if (probe.header.message_id == kPendingId) probe.header.message_id.clear();
      return head_ = Result<RoutingHeader>(std::move(probe.header));
    }
    if (schema_failed_) return head_ = Result<RoutingHeader>(*problem_);  // the head may lie after the error
    if (!complete) return std::nullopt;
    return head_ = Result<RoutingHeader>(head_problem(std::move(*probe.problem)));
  }

  Inspection finish() {
    Inspection out;
    if (finished_) {
      out.problem = Problem::make(ProblemKind::internal, "finish called twice");
      return out;
    }
    finished_ = true;
    std::array<unsigned char, 32> digest{};  // of the bytes fed (until a problem stopped the feed)
    unsigned int len = 0;
    const bool hashed = EVP_DigestFinal_ex(digest_.get(), digest.data(), &len) == 1 && len == digest.size();
    if (hashed && !problem_) body_sha256_ = digest;  // every byte fed was hashed
    const auto start = std::chrono::steady_clock::now();
    if (!problem_) complete_parse();
    busy_ += std::chrono::steady_clock::now() - start;
    out.parse_time = busy_;
    if (problem_ && !schema_failed_) {
      out.problem = *problem_;
      return out;
    }
    if (!skeleton_) {
      out.problem = Problem::make(ProblemKind::malformed_xml, "document has no root element").at({"", 1, 1});
      return out;
    }
    unsigned char sha256[32];
    std::copy(digest.begin(), digest.end(), sha256);
    const bool head_ok = inspector_.inspect_head(*skeleton_, [&] { return derived_message_id_from_sha256(sha256); }, out);
    if (schema_failed_) {
      // The parse stopped at a schema error once the head was fine (or could grow no more).
      out.problem = *problem_;
      return out;
    }
    if (!head_ok) {
      out.problem = head_problem(std::move(*out.problem));
      return out;
    }
    if (!errors_.errors.empty()) {
      out.problem = schema_problem();
      return out;
    }
    if (inspector_.catalog() == nullptr) return out;
    if (out.schema != schema_) {
      out.problem = Problem::make(ProblemKind::internal, "the schema chosen by the root start tag (" +
                                                             std::string(schema_ ? schema_->standard : "none") +
                                                             ") is not the one the parsed root selects");
      return out;
    }
    out.validated = true;
    return out;
  }

  uint64_t bytes_fed() const { return bytes_fed_; }
  const std::optional<std::array<unsigned char, 32>>& body_sha256() const { return body_sha256_; }

 private:
  void feed_bytes(std::string_view bytes) {
    bytes_fed_ += bytes.size();
    if (bytes_fed_ > max_bytes_) {
      problem_ = Problem::make(ProblemKind::payload_too_large,
                               "document has more than " + std::to_string(max_bytes_) +
                                   " bytes, the limit");
      return;
    }
    EVP_DigestUpdate(digest_.get(), bytes.data(), bytes.size());
    // Before libxml2 sees the bytes: it checks duplicate attributes pairwise.
    if (auto where = attribute_scanner_.scan(bytes)) {
      problem_ = too_many_attributes_problem(*where);
      return;
    }
    if (parser_) {
      push(bytes, false);
      return;
    }
    prolog_.append(bytes);
    if (!find_root(bytes)) {
      if (prolog_.size() > kMaxPrologBytes)
        problem_ = Problem::make(ProblemKind::malformed_xml, "the root element does not start within the first " +
                                                                 std::to_string(kMaxPrologBytes) + " bytes")
                       .at({"", 1, 1});
      return;
    }
    start_parser();
  }

  // The cheap pre-parse: a push parser that only notes the root start tag (namespace,
  // name, version attribute) and stops there. True once it has stopped (root seen, or
  // an error the real parser will report the same way).
  bool find_root(std::string_view bytes) {
    if (inspector_.catalog() == nullptr) return true;  // nothing to choose
    if (!root_finder_) {
      xmlSAXHandler sax;
      std::memset(&sax, 0, sizeof sax);
      sax.initialized = XML_SAX2_MAGIC;
      sax.startElementNs = on_root_found;
      sax.internalSubset = on_doctype;
      root_finder_.reset(xmlCreatePushParserCtxt(&sax, nullptr, nullptr, 0, "message.xml"));
      if (!root_finder_) return true;
      xmlCtxtUseOptions(root_finder_.get(), kParseOptions);
      root_finder_->_private = this;
    }
    for (size_t at = 0; at < bytes.size() && !root_seen_; at += kMaxPush) {
      const std::string_view piece = bytes.substr(at, kMaxPush);
      xmlParseChunk(root_finder_.get(), piece.data(), static_cast<int>(piece.size()), 0);
      if (root_finder_->instate == XML_PARSER_EOF || !root_finder_->wellFormed) break;
    }
    const bool done = root_seen_ || root_finder_->instate == XML_PARSER_EOF || !root_finder_->wellFormed;
    if (done) {
      root_finder_.reset();
      problem_.reset();  // a DOCTYPE seen here is refused by the real parser, at the same place
    }
    return done;
  }

  void start_parser() {
    if (root_seen_ && inspector_.catalog() != nullptr)
      schema_ = inspector_.catalog()->find(root_namespace_, root_name_, root_version_);
    xmlSAXHandler sax;
    std::memset(&sax, 0, sizeof sax);
    xmlSAXVersion(&sax, 2);
    sax.internalSubset = on_doctype;
    sax.externalSubset = nullptr;
    sax.startDocument = xmlSAX2StartDocument;
    sax.startElementNs = on_start_element;
    sax.endElementNs = on_end_element;
    sax.characters = on_characters;
    sax.ignorableWhitespace = on_characters;
    sax.cdataBlock = on_cdata;
    sax.comment = nullptr;  // the adapters read elements, attributes and text only
    sax.processingInstruction = nullptr;
    parser_.reset(xmlCreatePushParserCtxt(&sax, nullptr, nullptr, 0, "message.xml"));
    if (!parser_) {
      problem_ = Problem::make(ProblemKind::internal, "cannot allocate XML parser");
      return;
    }
    xmlCtxtUseOptions(parser_.get(), kParseOptions);
    parser_->_private = this;
    if (schema_ != nullptr && !schema_->compiled) {
      problem_ = Problem::make(ProblemKind::internal, "no compiled schema for " + schema_->standard);
      return;
    }
    if (schema_ != nullptr) {
      validator_.reset(xmlSchemaNewValidCtxt(schema_->compiled->get()));
      if (validator_) {
        xmlSchemaSetValidStructuredErrors(validator_.get(), collect_validation_error, &errors_);
        plug_ = xmlSchemaSAXPlug(validator_.get(), &parser_->sax, &parser_->userData);
      }
      if (!plug_) {
        problem_ = Problem::make(ProblemKind::internal, "cannot start the streaming schema validation");
        return;
      }
    }
    std::string prolog = std::move(prolog_);
    prolog_ = std::string();
    push(prolog, false);
  }

  void push(std::string_view bytes, bool terminate) {
    do {
      const std::string_view piece = bytes.substr(0, kMaxPush);
      bytes.remove_prefix(piece.size());
      xmlParseChunk(parser_.get(), piece.data(), static_cast<int>(piece.size()), terminate && bytes.empty() ? 1 : 0);
      if (check_parser()) return;
    } while (!bytes.empty());
  }

  // True when the parse has failed (problem_ set). A schema error stops the parse
  // only once the head is known to be fine: the DOM path reports a head problem
  // before a schema error, so until then the parse goes on (the validator collects).
  bool check_parser() {
    if (problem_) return true;  // set by a callback (DOCTYPE, depth)
    // An encoding error halts libxml2 without marking the document not well-formed.
    if (!parser_->wellFormed || (parser_->instate == XML_PARSER_EOF && !root_closed_)) {
      problem_ = parser_error_problem(parser_.get());
      if (problem_->location && problem_->location->line == 0 && parser_->input != nullptr) {
        problem_->location->line = parser_->input->line;  // I/O (encoding) errors carry no line
        for (auto& e : problem_->errors) e.line = parser_->input->line;
      }
      return true;
    }
    if (errors_.errors.empty() || root_closed_) return false;  // a complete document: finish() decides
    if (capped_ || head_fine()) {
      problem_ = schema_problem();
      schema_failed_ = true;
      return true;
    }
    return false;
  }

  // Whether the adapters accept the skeleton's head now (run as head() runs them).
  bool head_fine() {
    if (!skeleton_ || root_children_closed_ == schema_checked_at_) return false;
    if (schema_checked_at_ != SIZE_MAX && root_children_closed_ > 16 &&
        std::bit_width(root_children_closed_) == std::bit_width(schema_checked_at_))
      return false;  // as in head(): the first 16 children, then powers of two
    schema_checked_at_ = root_children_closed_;
    Inspection probe;
    return inspector_.inspect_head(*skeleton_, [] { return std::string(kPendingId); }, probe);
  }

  Problem schema_problem() const {
    ValidationErrors copy = errors_;
    return schema_invalid_problem(*schema_, std::move(copy));
  }

  void complete_parse() {
    if (bytes_fed_ == 0) {
      problem_ = Problem::make(ProblemKind::malformed_xml, "the body is empty").at({"", 1, 1});
      return;
    }
    if (!parser_) {
      root_finder_.reset();
      start_parser();
      if (problem_) return;
    }
    push({}, true);
    if (problem_) return;
    if (plug_ != nullptr && validator_ && xmlSchemaIsValid(validator_.get()) == 0 && errors_.errors.empty())
      problem_ = Problem::make(ProblemKind::internal, "libxml2 could not run the schema validation");
  }

  // A head problem on a skeleton that was cut off says why.
  Problem head_problem(Problem p) const {
    if (!capped_ || (p.kind != ProblemKind::missing_routing_header && p.kind != ProblemKind::unknown_standard))
      return p;
    return Problem::make(ProblemKind::missing_routing_header,
                         "no routing header (nachrichtenkopf) that an inbound adapter understands within the first " +
                             std::to_string(kMaxSkeletonElements) +
                             " elements; large messages must carry their head near the start (" + p.detail + ")");
  }

  void close_parser() {
    if (plug_ != nullptr) xmlSchemaSAXUnplug(plug_);
    plug_ = nullptr;
    if (parser_) {
      if (!skeleton_ && parser_->myDoc != nullptr) xmlFreeDoc(parser_->myDoc);
      parser_->myDoc = nullptr;  // the skeleton, when adopted, is ours
      parser_.reset();
    }
    validator_.reset();
  }

  static State& self(void* ctx) { return *static_cast<State*>(static_cast<xmlParserCtxtPtr>(ctx)->_private); }

  static void on_root_found(void* ctx, const xmlChar* localname, const xmlChar*, const xmlChar* uri, int, const xmlChar**,
                            int nb_attributes, int, const xmlChar** attributes) {
    State& s = self(ctx);
    s.root_seen_ = true;
    s.root_name_ = reinterpret_cast<const char*>(localname);
    s.root_namespace_ = uri != nullptr ? reinterpret_cast<const char*>(uri) : "";
    for (int i = 0; i < nb_attributes; ++i) {
      const xmlChar** a = attributes + 5 * i;  // localname, prefix, URI, value, end
      if (xmlStrEqual(a[0], reinterpret_cast<const xmlChar*>("version"))) {
        s.root_version_.assign(reinterpret_cast<const char*>(a[3]), static_cast<size_t>(a[4] - a[3]));
        break;  // xmlGetProp takes the first, whatever its namespace
      }
    }
    xmlStopParser(static_cast<xmlParserCtxtPtr>(ctx));
  }

  static void on_doctype(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
    auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
    self(ctx).problem_ = doctype_refused_problem(ctxt->input ? ctxt->input->line : 1, ctxt->input ? ctxt->input->col : 1);
    xmlStopParser(ctxt);
  }

  static void on_start_element(void* ctx, const xmlChar* localname, const xmlChar* prefix, const xmlChar* uri,
                               int nb_namespaces, const xmlChar** namespaces, int nb_attributes, int nb_defaulted,
                               const xmlChar** attributes) {
    auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
    State& s = self(ctx);
    if (s.open_ > kMaxOpenElements) {  // as nodePush refuses it
      ctxt->wellFormed = 0;
      s.problem_ = Problem::make(ProblemKind::malformed_xml, "Excessive depth in document: " +
                                                                 std::to_string(kMaxOpenElements) +
                                                                 " use XML_PARSE_HUGE option")
                       .at({"", ctxt->input ? ctxt->input->line : 0, ctxt->input ? ctxt->input->col : 0});
      s.problem_->errors.push_back({s.problem_->location->line, s.problem_->location->column, "",
                                    s.problem_->detail});
      xmlStopParser(ctxt);
      return;
    }
    ++s.open_;
    if (s.skipped_open_ > 0 || s.elements_ >= kMaxSkeletonElements || s.kept_bytes_ > kMaxSkeletonBytes) {
      ++s.skipped_open_;
      s.capped_ = true;
      s.current_ = nullptr;
      return;
    }
    // Attribute values capped like text (the adapters read short ones).
    std::vector<const xmlChar*> capped(attributes, attributes + 5 * nb_attributes);
    for (int i = 0; i < nb_attributes; ++i) {
      const xmlChar* value = capped[5 * i + 3];
      const size_t len = static_cast<size_t>(capped[5 * i + 4] - value);
      const size_t keep = cut(value, len, kMaxSkeletonTextPerNode);
      capped[5 * i + 4] = value + keep;
      s.kept_bytes_ += keep;
    }
    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes, nb_defaulted,
                          capped.data());
    ++s.elements_;
    s.current_ = ctxt->node;
    s.text_in_node_ = 0;
    if (!s.skeleton_ && ctxt->myDoc != nullptr && xmlDocGetRootElement(ctxt->myDoc) != nullptr) {
      auto adopted = XmlDocument::adopt(std::unique_ptr<xmlDoc, XmlDocFree>(ctxt->myDoc));
      if (adopted) s.skeleton_.emplace(std::move(adopted).value());
    }
  }

  static void on_end_element(void* ctx, const xmlChar* localname, const xmlChar* prefix, const xmlChar* uri) {
    auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
    State& s = self(ctx);
    --s.open_;
    if (s.skipped_open_ > 0) {
      --s.skipped_open_;
      s.current_ = nullptr;
    } else {
      s.current_ = ctxt->node;  // the element closing: a validation error at its end names it
      xmlSAX2EndElementNs(ctx, localname, prefix, uri);
      s.text_in_node_ = 0;
    }
    if (s.open_ == 1) ++s.root_children_closed_;
    if (s.open_ == 0) s.root_closed_ = true;
  }

  // Text is kept up to the caps; the validator below the plug sees all of it.
  void keep_text(void* ctx, const xmlChar* ch, int len, bool cdata) {
    auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
    if (skipped_open_ > 0 || ctxt->node == nullptr) return;
    current_ = ctxt->node;
    if (text_in_node_ >= kMaxSkeletonTextPerNode || kept_bytes_ > kMaxSkeletonBytes) return;
    const size_t keep = cut(ch, static_cast<size_t>(len), kMaxSkeletonTextPerNode - text_in_node_);
    text_in_node_ = keep < static_cast<size_t>(len) ? kMaxSkeletonTextPerNode : text_in_node_ + keep;
    kept_bytes_ += keep;
    if (keep == 0) return;
    if (cdata)
      xmlSAX2CDataBlock(ctx, ch, static_cast<int>(keep));
    else
      xmlSAX2Characters(ctx, ch, static_cast<int>(keep));
  }
  static void on_characters(void* ctx, const xmlChar* ch, int len) { self(ctx).keep_text(ctx, ch, len, false); }
  static void on_cdata(void* ctx, const xmlChar* ch, int len) { self(ctx).keep_text(ctx, ch, len, true); }

  const MessageInspector& inspector_;
  const uint64_t max_bytes_;
  std::unique_ptr<EVP_MD_CTX, DigestFree> digest_;
  std::optional<std::array<unsigned char, 32>> body_sha256_;  // set by finish()
  uint64_t bytes_fed_ = 0;
  std::chrono::steady_clock::duration busy_{};
  std::optional<Problem> problem_;
  bool schema_failed_ = false;  // problem_ is a schema error: parsing stopped there
  bool finished_ = false;
  AttributeCountScanner attribute_scanner_;

  // Before the root start tag: the bytes so far and the pre-parser.
  std::string prolog_;
  std::unique_ptr<xmlParserCtxt, ParserFree> root_finder_;
  bool root_seen_ = false;
  std::string root_namespace_, root_name_, root_version_;

  // The real parse.
  const SchemaEntry* schema_ = nullptr;
  std::unique_ptr<xmlParserCtxt, ParserFree> parser_;
  std::unique_ptr<xmlSchemaValidCtxt, ValidCtxtFree> validator_;
  xmlSchemaSAXPlugPtr plug_ = nullptr;
  ValidationErrors errors_;

  // The skeleton.
  std::optional<XmlDocument> skeleton_;
  const xmlNode* current_ = nullptr;  // the element the last SAX event was about
  int open_ = 0;                      // elements open now
  int skipped_open_ = 0;              // of them, not built (past the caps)
  size_t elements_ = 0, kept_bytes_ = 0, text_in_node_ = 0;
  bool capped_ = false, root_closed_ = false;
  size_t root_children_closed_ = 0, evaluated_at_ = 0;
  size_t schema_checked_at_ = SIZE_MAX;  // root_children_closed_ when head_fine() last ran
  std::optional<Result<RoutingHeader>> head_;
};

StreamingInspector::StreamingInspector(const MessageInspector& inspector)
    : StreamingInspector(inspector, inspector.max_message_bytes()) {}
StreamingInspector::StreamingInspector(const MessageInspector& inspector, uint64_t max_bytes)
    : state_(std::make_unique<State>(inspector, max_bytes)) {}
StreamingInspector::~StreamingInspector() = default;
StreamingInspector::StreamingInspector(StreamingInspector&&) noexcept = default;
StreamingInspector& StreamingInspector::operator=(StreamingInspector&&) noexcept = default;

Status StreamingInspector::feed(std::string_view bytes) { return state_->feed(bytes); }
std::optional<Result<RoutingHeader>> StreamingInspector::head() { return state_->head(); }
Inspection StreamingInspector::finish() { return state_->finish(); }
uint64_t StreamingInspector::bytes_fed() const { return state_->bytes_fed(); }
std::optional<std::array<unsigned char, 32>> StreamingInspector::body_sha256() const { return state_->body_sha256(); }

}  // namespace xoev
