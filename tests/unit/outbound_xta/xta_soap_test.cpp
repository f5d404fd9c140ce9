// The SOAP endpoint over real TCP on loopback, answers checked against the XTA XSDs.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "adapters/outbound/xta/xta_adapter.h"
#include "adapters/outbound/xta/xta_mailbox.h"
#include "adapters/outbound/xta/xta_protocol.h"
#include "adapters/outbound/xta/xta_soap_handler.h"
#include "adapters/outbound/xta/xta_soap_service.h"
#include "gateway/core/xml_document.h"
#include "gateway/http/http_client.h"
#include "xta_schema.h"
#include "tests/support/files.h"

namespace fs = std::filesystem;
using namespace xoev;
using namespace xoev::xta;

namespace {

using xoev::test::TempDir;

DeliveredMessage message(const std::string& id, const std::string& body) {
  DeliveredMessage m;
  m.message_id = id;
  m.destination = "fachverfahren";
  m.message_type = "0401";
  m.standard = "xbeteiligung";
  m.sender = "psw:01000000";
  m.recipient = "psw:02000000";
  m.accepted_at = "2026-11-28T10:00:00.123Z";
  m.body = body;
  return m;
}

// A client request as a Fachverfahren sends it: WS-Addressing headers, the author, the body.
std::string request(const std::string& action, const std::string& body_xml, const std::string& extra_header = {}) {
  return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>") + "<env:Envelope xmlns:env=\"" + kSoap12Namespace +
         "\" xmlns:wsa=\"" + kWsaNamespace + "\" xmlns:osci=\"" + kOsciNamespace + "\" xmlns:oscimeta=\"" +
         kOsciMetaNamespace + "\"><env:Header><wsa:Action>" + action +
         "</wsa:Action><wsa:MessageID>urn:uuid:0b7e1a52-1c5e-4a4e-9d1f-3f0c2d9a8e11</wsa:MessageID>"
         "<wsa:To>http://127.0.0.1/MsgBoxPort</wsa:To>"
         "<oscimeta:Author><oscimeta:Identifier type=\"xoev\">psw:02000000</oscimeta:Identifier></oscimeta:Author>" +
         extra_header + "</env:Header><env:Body>" + body_xml + "</env:Body></env:Envelope>";
}

std::string status_list_request(int max_items = 0) {
  return request(kActionStatusList, "<osci:MsgBoxStatusListRequest" +
                                        (max_items ? " maxListItems=\"" + std::to_string(max_items) + "\"" : "") +
                                        "/>");
}
std::string fetch_request(const std::string& id) {
  return request(kActionFetch,
                 "<osci:MsgBoxFetchRequest><osci:MsgSelector><wsa:MessageID>" + id +
                     "</wsa:MessageID></osci:MsgSelector></osci:MsgBoxFetchRequest>");
}
std::string close_request(const std::vector<std::string>& ids) {
  std::string body = "<osci:MsgBoxCloseRequest MsgBoxRequestID=\"urn:uuid:5d0c1b2a-0000-4000-8000-000000000001\">";
  for (const auto& id : ids) body += "<osci:LastMsgReceived>" + id + "</osci:LastMsgReceived>";
  return request(kActionClose, body + "</osci:MsgBoxCloseRequest>");
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += e + "\n";
  return s;
}

class XtaSoap : public ::testing::Test {
 protected:
  void SetUp() override {
    xml_global_init();
    auto box = Mailbox::open(dir.path);
    ASSERT_TRUE(box.ok());
    mailbox = std::move(box).value();
    auto started = XtaSoapService::start(mailbox, "127.0.0.1:0");
    ASSERT_TRUE(started.ok()) << started.problem().one_line();
    service = std::move(started).value();
    auto c = http::HttpClient::create();
    ASSERT_TRUE(c.ok());
    client = std::make_unique<http::HttpClient>(std::move(c).value());
  }

  http::HttpClientResponse post(const std::string& body, const std::string& method = "POST") {
    http::HttpClientRequest r;
    r.method = method;
    r.url = "http://127.0.0.1:" + std::to_string(service->port()) + "/MsgBoxPort";
    r.headers = {{"Content-Type", "application/soap+xml; charset=utf-8"}};
    r.body = body;
    auto response = client->send(r);
    EXPECT_TRUE(response.ok()) << (response.ok() ? "" : response.problem().one_line());
    return response.ok() ? std::move(response).value() : http::HttpClientResponse{};
  }

  // Posts a request that must itself be schema-valid; returns the answer (also checked).
  XmlDocument exchange(const std::string& body, int expected_status) {
    EXPECT_EQ(join(xta::test::validate_soap(body)), "") << "request invalid:\n" << body;
    auto response = post(body);
    EXPECT_EQ(response.status, expected_status) << response.body;
    EXPECT_NE(response.header("Content-Type").find("application/soap+xml"), std::string::npos);
    EXPECT_EQ(join(xta::test::validate_soap(response.body)), "") << "response invalid:\n" << response.body;
    auto doc = XmlDocument::parse(response.body);
    EXPECT_TRUE(doc.ok()) << response.body;
    if (!doc.ok()) throw std::runtime_error("unparseable response");
    return std::move(doc).value();
  }

  TempDir dir;
  std::shared_ptr<Mailbox> mailbox;
  std::unique_ptr<XtaSoapService> service;
  std::unique_ptr<http::HttpClient> client;
};

std::vector<std::string> listed_ids(const XmlDocument& doc) {
  std::vector<std::string> ids;
  const xmlNode* list = find_path(doc.root(), "Body/MsgStatusList");
  for (const xmlNode* md : child_elements(list)) ids.push_back(text_of(find_path(md, "MsgIdentification/MessageID")));
  return ids;
}

std::string header_text(const XmlDocument& doc, std::string_view path) {
  return text_of(find_path(doc.root(), path));
}

std::string base64_decode(const std::string& text, size_t size) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return "<bad base64>";
  out.resize(std::min(static_cast<size_t>(n), size));  // EVP_DecodeBlock counts padding as zero bytes
  return out;
}

}  // namespace

TEST(XtaSchema, CompilesFromTheWsdlTypes) {
  // A document that is not XTA must fail: proves the validator actually checks.
  auto bad = xta::test::validate_soap(request(kActionStatusList, "<osci:MsgBoxStatusListRequest maxListItems=\"-1\"/>"));
  EXPECT_FALSE(bad.empty());
  auto bad_close = xta::test::validate_soap(request(kActionClose, "<osci:MsgBoxCloseRequest/>"));  // MsgBoxRequestID is required
  EXPECT_FALSE(bad_close.empty());
}

TEST_F(XtaSoap, ListFetchCloseUntilTheMailboxIsEmpty) {
  const std::string body_a = "<a:x xmlns:a=\"urn:test:a\">Grüße &amp; mehr</a:x>";
  ASSERT_TRUE(mailbox->store(message("msg-a", body_a)).ok());
  ASSERT_TRUE(mailbox->store(message("msg-b", "<b:y xmlns:b=\"urn:test:b\"/>")).ok());
  ASSERT_TRUE(mailbox->store(message("msg-c", "<c/>")).ok());

  auto list = exchange(status_list_request(2), 200);
  EXPECT_EQ(listed_ids(list), (std::vector<std::string>{"msg-a", "msg-b"}));
  EXPECT_EQ(header_text(list, "Header/MsgBoxResponse/ItemsPending"), "1");
  EXPECT_EQ(header_text(list, "Header/Action"), kActionStatusList);
  EXPECT_EQ(header_text(list, "Header/RelatesTo"), "urn:uuid:0b7e1a52-1c5e-4a4e-9d1f-3f0c2d9a8e11");
  const xmlNode* type = find_path(list.root(), "Body/MsgStatusList/MessageMetaData/Qualifier/MessageType");
  EXPECT_EQ(text_of(first_child(type, "code")), "0401");
  EXPECT_EQ(attribute(type, "payloadSchema"), "urn:test:a");
  EXPECT_EQ(header_text(list, "Body/MsgStatusList/MessageMetaData/Originators/Author/Identifier"), "psw:01000000");
  EXPECT_EQ(header_text(list, "Body/MsgStatusList/MessageMetaData/Destinations/Reader/Identifier"), "psw:02000000");

  auto fetched = exchange(fetch_request("msg-a"), 200);
  EXPECT_EQ(header_text(fetched, "Header/Action"), kActionFetch);
  EXPECT_EQ(header_text(fetched, "Header/MessageMetaData/MsgIdentification/MessageID"), "msg-a");
  EXPECT_EQ(header_text(fetched, "Header/MessageMetaData/MsgSize"), std::to_string(body_a.size()));
  const xmlNode* payload = find_path(fetched.root(), "Body/GenericContentContainer/ContentContainer/Message");
  ASSERT_NE(payload, nullptr);
  EXPECT_EQ(attribute(payload, "contentType"), "application/xml");
  EXPECT_EQ(base64_decode(text_of(payload), body_a.size()), body_a);  // the exact bytes

  auto closed = exchange(close_request({"msg-a"}), 200);
  EXPECT_EQ(header_text(closed, "Header/Action"), kActionClose);
  EXPECT_TRUE(child_elements(first_child(closed.root(), "Body")).empty());
  EXPECT_EQ(listed_ids(exchange(status_list_request(), 200)), (std::vector<std::string>{"msg-b", "msg-c"}));

  exchange(close_request({"msg-a"}), 200);  // a repeated close is harmless
  exchange(close_request({"msg-b", "msg-c"}), 200);
  auto empty = exchange(status_list_request(), 200);
  EXPECT_TRUE(listed_ids(empty).empty());
  EXPECT_EQ(attribute(find_path(empty.root(), "Header/MsgBoxResponse/NoMessageAvailable"), "reason"), kReasonNoMatch);
  EXPECT_TRUE(fs::exists(dir.path / "closed" / "msg-a.msg"));
}

TEST_F(XtaSoap, ListAsMsgAttributesWhenAsked) {
  ASSERT_TRUE(mailbox->store(message("attr-1", "<x/>")).ok());
  auto list = exchange(request(kActionStatusList, "<osci:MsgBoxStatusListRequest ListForm=\"MsgAtrributes\"/>"), 200);
  EXPECT_EQ(header_text(list, "Body/MsgStatusList/MsgAttributes/MessageID"), "attr-1");
  EXPECT_EQ(header_text(list, "Body/MsgStatusList/MsgAttributes/MsgSize"), "4");
}

TEST_F(XtaSoap, UnknownOrClosedIdIsAnInvalidMessageIdFault) {
  ASSERT_TRUE(mailbox->store(message("known", "<x/>")).ok());
  for (const auto& body : {fetch_request("nope"), close_request({"known", "nope"})}) {
    auto fault = exchange(body, 400);
    EXPECT_EQ(header_text(fault, "Body/Fault/Code/Value"), "env:Sender");
    const xmlNode* exception = find_path(fault.root(), "Body/Fault/Detail/InvalidMessageIDException");
    ASSERT_NE(exception, nullptr) << body;
    EXPECT_EQ(text_of(find_path(exception, "errorCode/code")), kErrorInvalidMessageId);
  }
  // The failed close acknowledged nothing (all or nothing).
  EXPECT_EQ(mailbox->pending()->size(), 1u);
  exchange(close_request({"known"}), 200);
  auto after_close = exchange(fetch_request("known"), 400);
  EXPECT_NE(header_text(after_close, "Body/Fault/Reason/Text").find("already closed"), std::string::npos);
}

TEST_F(XtaSoap, MalformedRequestsGetFaultsAndTheServerKeepsServing) {
  const std::vector<std::pair<std::string, int>> cases = {
      {"<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\"><env:Body>", 400},  // truncated
      {"not xml at all", 400},
      {"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>", 400},
      {"<x/>", 400},
      {"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body/></s:Envelope>", 500},  // SOAP 1.1
      {request(kActionFetch, "<osci:MsgBoxStatusListRequest/>"), 400},  // action does not match the body
      {request(kActionStatusList, "<osci:MsgBoxGetNextRequest MsgBoxRequestID=\"urn:x\"/>"), 400},
      {request(kActionStatusList, "<osci:MsgBoxStatusListRequest maxListItems=\"zero\"/>"), 400},
      {request(kActionStatusList, "<osci:MsgBoxStatusListRequest/>",
               "<x:Security xmlns:x=\"urn:x\" env:mustUnderstand=\"true\"/>"), 500},
      {"", 400},
  };
  for (const auto& [body, status] : cases) {
    auto response = post(body);
    EXPECT_EQ(response.status, status) << body << "\n" << response.body;
    EXPECT_EQ(join(xta::test::validate_soap(response.body)), "") << response.body;
    auto doc = XmlDocument::parse(response.body);
    ASSERT_TRUE(doc.ok()) << response.body;
    EXPECT_NE(find_path(doc->root(), "Body/Fault/Reason/Text"), nullptr) << response.body;
  }
  EXPECT_EQ(post(status_list_request(), "GET").status, 405);
  exchange(status_list_request(), 200);  // still serving
}

TEST(XtaAdapter, DeliverPutsTheMessageInTheMailboxIdempotently) {
  xml_global_init();
  TempDir t;
  XtaSettings config;
  config.directory = t.path / "box";
  config.listen = "127.0.0.1:0";
  auto adapter = make_xta_adapter(config);
  ASSERT_TRUE(adapter.ok()) << adapter.problem().one_line();
  EXPECT_EQ((*adapter)->type(), "xta");
  auto first = (*adapter)->deliver(message("d-1", "<x/>"));
  ASSERT_TRUE(std::holds_alternative<Delivered>(first));
  auto again = (*adapter)->deliver(message("d-1", "<x/>"));
  ASSERT_TRUE(std::holds_alternative<Delivered>(again));
  EXPECT_NE(std::get<Delivered>(again).detail.find("already"), std::string::npos);
  auto bad = (*adapter)->deliver(message("", "<x/>"));
  EXPECT_TRUE(std::holds_alternative<Reject>(bad));

  auto box = Mailbox::open(config.directory);
  ASSERT_TRUE(box.ok());
  EXPECT_EQ((*box)->pending()->size(), 1u);
}

TEST(XtaAdapter, ConfigAndBindErrorsAreProblems) {
  xml_global_init();
  TempDir t;
  XtaSettings config;
  config.directory = t.path / "box";
  config.listen.clear();
  auto no_listen = make_xta_adapter(config);
  ASSERT_FALSE(no_listen.ok());
  EXPECT_EQ(no_listen.problem().kind, ProblemKind::config_invalid);

  // A port somebody else holds: bind fails, the adapter is not created.
  auto box = Mailbox::open(t.path / "other");
  ASSERT_TRUE(box.ok());
  auto holder = XtaSoapService::start(std::move(box).value(), "127.0.0.1:0");
  ASSERT_TRUE(holder.ok());
  config.listen = "127.0.0.1:" + std::to_string((*holder)->port());
  auto taken = make_xta_adapter(config);
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.problem().detail.find("127.0.0.1:" + std::to_string((*holder)->port())), std::string::npos)
      << taken.problem().detail;
}

TEST_F(XtaSoap, MarkupInIdsAndMetadataIsEscaped) {
  DeliveredMessage m = message("id&<x>\"'", "<x/>");
  m.sender = "psw:<script>&";
  ASSERT_TRUE(mailbox->store(m).ok());
  auto list = exchange(status_list_request(), 200);
  EXPECT_EQ(listed_ids(list), (std::vector<std::string>{"id&<x>\"'"}));
  EXPECT_EQ(header_text(list, "Body/MsgStatusList/MessageMetaData/Originators/Author/Identifier"), "psw:<script>&");
  auto fetched = exchange(fetch_request("id&amp;&lt;x&gt;\"'"), 200);
  EXPECT_EQ(header_text(fetched, "Header/MessageMetaData/MsgIdentification/MessageID"), "id&<x>\"'");
  exchange(close_request({"id&amp;&lt;x&gt;&quot;'"}), 200);
  EXPECT_TRUE(mailbox->pending()->empty());
}

TEST(XtaSoapHandler, EveryTruncationOfARequestGetsAParseableAnswer) {
  xml_global_init();
  TempDir t;
  auto box = Mailbox::open(t.path);
  ASSERT_TRUE(box.ok());
  ASSERT_TRUE((*box)->store(message("t-1", "<x/>")).ok());
  const std::string full = close_request({"t-1"});
  for (size_t n = 0; n < full.size(); n += 5) {
    const SoapReply reply = handle_soap_request(**box, std::string_view(full).substr(0, n));
    EXPECT_EQ(reply.http_status, 400) << n;
    auto doc = XmlDocument::parse(reply.body);
    ASSERT_TRUE(doc.ok()) << reply.body;
    EXPECT_NE(find_path(doc->root(), "Body/Fault"), nullptr);
  }
  EXPECT_EQ((*box)->pending()->size(), 1u);  // no partial request acknowledged anything
  EXPECT_EQ(handle_soap_request(**box, full).http_status, 200);
  EXPECT_TRUE((*box)->pending()->empty());
}

namespace {

// One part of a multipart/related body: its header lines and its bytes.
struct MimePart {
  std::string headers;
  std::string content;
};

// Splits `body` at `boundary` the way RFC 2046 frames it: "--B" CRLF opens the first
// part, CRLF "--B" CRLF separates, CRLF "--B--" closes. Empty on any framing error.
std::vector<MimePart> split_multipart(const std::string& body, const std::string& boundary) {
  std::vector<MimePart> parts;
  const std::string open = "--" + boundary + "\r\n", next = "\r\n--" + boundary + "\r\n",
                    close = "\r\n--" + boundary + "--\r\n";
  if (body.rfind(open, 0) != 0 || body.size() < close.size() ||
      body.compare(body.size() - close.size(), close.size(), close) != 0)
    return {};
  size_t at = open.size();
  const size_t end = body.size() - close.size();
  while (at <= end) {
    size_t stop = body.find(next, at);
    if (stop == std::string::npos || stop > end) stop = end;
    const std::string part = body.substr(at, stop - at);
    const size_t blank = part.find("\r\n\r\n");
    if (blank == std::string::npos) return {};
    parts.push_back({part.substr(0, blank + 2), part.substr(blank + 4)});
    if (stop == end) break;
    at = stop + next.size();
  }
  return parts;
}

// The value of `name="…"` (or name=token) in a header value.
std::string parameter(const std::string& value, const std::string& name) {
  const size_t at = value.find(name + "=");
  if (at == std::string::npos) return {};
  size_t from = at + name.size() + 1;
  if (from < value.size() && value[from] == '"') return value.substr(from + 1, value.find('"', from + 1) - from - 1);
  return value.substr(from, value.find(';', from) - from);
}

std::string base64_encode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  out.resize(static_cast<size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                                 reinterpret_cast<const unsigned char*>(bytes.data()),
                                                 static_cast<int>(bytes.size()))));
  return out;
}

// A schema-free XML document of exactly `size` bytes whose text holds MIME-like lines.
std::string document_of_size(size_t size) {
  const std::string open = "<a:x xmlns:a=\"urn:test:large\">", close = "</a:x>";
  std::string text;
  for (size_t i = 0; text.size() < size; ++i) text += "\r\n--MIMEBoundary_ line " + std::to_string(i);
  text.resize(size - open.size() - close.size());
  return open + text + close;
}

}  // namespace

// Issue 10: a message above kInlineBodyBytes goes into the mailbox file to file (the
// deliverer's reassembled file, never whole in memory) and comes out as MTOM: the
// root part is the getMessage envelope with xop:Include, the second part the exact
// bytes. Put back together (the Include replaced by base64, as XOP defines) the
// envelope validates against the XTA schemas. One byte less is still sent inline.
TEST_F(XtaSoap, AMessageAboveTheInlineLimitIsStoredFromItsFileAndFetchedAsMtom) {
  const std::string large = document_of_size(kInlineBodyBytes + 1);
  const fs::path source = dir.path / "reassembled.xml";
  {
    std::ofstream out(source, std::ios::binary);
    out << large;
  }
  DeliveredMessage from_file = message("large-1", "");
  from_file.body_file = source;
  from_file.body_size = large.size();
  ASSERT_TRUE(mailbox->store(from_file).ok());
  ASSERT_TRUE(mailbox->store(message("inline-1", document_of_size(kInlineBodyBytes))).ok());

  auto list = exchange(status_list_request(), 200);
  EXPECT_EQ(listed_ids(list), (std::vector<std::string>{"large-1", "inline-1"}));
  const xmlNode* type = find_path(list.root(), "Body/MsgStatusList/MessageMetaData/Qualifier/MessageType");
  EXPECT_EQ(attribute(type, "payloadSchema"), "urn:test:large");  // from the file's first bytes
  EXPECT_EQ(header_text(list, "Body/MsgStatusList/MessageMetaData/MsgSize"), std::to_string(large.size()));

  auto inline_answer = exchange(fetch_request("inline-1"), 200);  // exactly at the limit: base64 inside
  const xmlNode* inline_payload = find_path(inline_answer.root(), "Body/GenericContentContainer/ContentContainer/Message");
  EXPECT_EQ(base64_decode(text_of(inline_payload), kInlineBodyBytes), document_of_size(kInlineBodyBytes));

  auto response = post(fetch_request("large-1"));
  ASSERT_EQ(response.status, 200) << response.body.substr(0, 2000);
  const std::string content_type = response.header("Content-Type");
  ASSERT_EQ(content_type.rfind("multipart/related;", 0), 0u) << content_type;
  EXPECT_EQ(parameter(content_type, "type"), "application/xop+xml");
  EXPECT_EQ(parameter(content_type, "start-info"), "application/soap+xml");
  const auto parts = split_multipart(response.body, parameter(content_type, "boundary"));
  ASSERT_EQ(parts.size(), 2u) << response.body.substr(0, 3000);
  EXPECT_NE(parts[0].headers.find("Content-ID: " + parameter(content_type, "start")), std::string::npos);
  EXPECT_NE(parts[0].headers.find("Content-Type: application/xop+xml"), std::string::npos);
  EXPECT_TRUE(parts[1].content == large) << parts[1].content.size() << " bytes, want " << large.size();

  auto root = XmlDocument::parse(parts[0].content);
  ASSERT_TRUE(root.ok()) << parts[0].content;
  xmlNode* payload = const_cast<xmlNode*>(find_path(root->root(), "Body/GenericContentContainer/ContentContainer/Message"));
  ASSERT_NE(payload, nullptr);
  EXPECT_EQ(attribute(payload, "size"), std::to_string(large.size()));
  xmlNode* include = const_cast<xmlNode*>(first_child(payload, "Include"));
  ASSERT_NE(include, nullptr);
  const std::string href = attribute(include, "href");
  ASSERT_EQ(href.rfind("cid:", 0), 0u);
  EXPECT_NE(parts[1].headers.find("Content-ID: <" + href.substr(4) + ">"), std::string::npos) << parts[1].headers;
  // XOP's reconstitution: the Include's place takes the attachment's base64.
  xmlUnlinkNode(include);
  xmlFreeNode(include);
  xmlNodeAddContent(payload, reinterpret_cast<const xmlChar*>(base64_encode(large).c_str()));
  xmlChar* dumped = nullptr;
  int dumped_size = 0;
  xmlDocDumpMemory(root->doc(), &dumped, &dumped_size);
  const std::string reconstituted(reinterpret_cast<const char*>(dumped), static_cast<size_t>(dumped_size));
  xmlFree(dumped);
  EXPECT_EQ(join(xta::test::validate_soap(reconstituted)), "");

  exchange(close_request({"large-1"}), 200);  // closing it works as for any other
  EXPECT_TRUE(fs::exists(dir.path / "closed" / "large-1.msg"));
}

// A mailbox file cut short (disk trouble, a copy interrupted by hand) is never served as
// if complete: the size in its metadata must match the bytes after it.
TEST_F(XtaSoap, AMailboxFileCutShortGetsAFaultNotAShortMessage) {
  const std::string large = document_of_size(kInlineBodyBytes + 4096);
  ASSERT_TRUE(mailbox->store(message("cut-1", large)).ok());
  ASSERT_TRUE(mailbox->store(message("cut-2", document_of_size(1000))).ok());
  for (const char* id : {"cut-1", "cut-2"}) {
    const fs::path file = dir.path / "pending" / (std::string(id) + ".msg");
    fs::resize_file(file, fs::file_size(file) - 10);
    auto response = post(fetch_request(id));
    EXPECT_EQ(response.status, 500) << id;
    EXPECT_NE(response.body.find("damaged mailbox entry"), std::string::npos) << response.body.substr(0, 2000);
  }
}
