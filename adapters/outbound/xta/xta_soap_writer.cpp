#include "adapters/outbound/xta/xta_soap_writer.h"

#include <libxml/tree.h>
#include <openssl/evp.h>

#include <cctype>
#include <cstdio>
#include <memory>
#include <random>

#include "adapters/outbound/xta/xta_protocol.h"

namespace xoev::xta {
namespace {

const xmlChar* X(const char* s) { return reinterpret_cast<const xmlChar*>(s); }

// Text that XML 1.0 can carry: valid UTF-8 without control characters. Values come from
// Kafka headers the gateway wrote itself, but a broken one must not break the envelope.
std::string xml_safe(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') out += static_cast<char>(c);
      ++i;
      continue;
    }
    int len = xmlUTF8Size(reinterpret_cast<const xmlChar*>(in.data() + i));
    if (len > 0 && i + static_cast<size_t>(len) <= in.size() &&
        xmlCheckUTF8(reinterpret_cast<const xmlChar*>(in.substr(i, static_cast<size_t>(len)).c_str()))) {
      out.append(in, i, static_cast<size_t>(len));
      i += static_cast<size_t>(len);
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

// Unreserved characters stay, everything else is percent-encoded: a value becomes part of a URI.
std::string uri_part(const std::string& in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out.empty() ? "unknown" : out;
}

bool looks_like_datetime(const std::string& s) {
  return s.size() >= 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':';
}

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};

// One response document: Envelope with all namespaces declared on the root, Header, Body.
class Envelope {
 public:
  explicit Envelope(const Addressing& addressing) : doc_(xmlNewDoc(X("1.0"))) {
    xmlNode* root = xmlNewDocNode(doc_.get(), nullptr, X("Envelope"), nullptr);
    xmlDocSetRootElement(doc_.get(), root);
    env = xmlNewNs(root, X(kSoap12Namespace), X("env"));
    wsa = xmlNewNs(root, X(kWsaNamespace), X("wsa"));
    osci = xmlNewNs(root, X(kOsciNamespace), X("osci"));
    meta = xmlNewNs(root, X(kOsciMetaNamespace), X("oscimeta"));
    xta = xmlNewNs(root, X(kXtaNamespace), X("xta"));
    xmlSetNs(root, env);
    header = add(root, env, "Header");
    body = add(root, env, "Body");
    add(header, wsa, "Action", addressing.action);
    add(header, wsa, "MessageID", new_urn_uuid());
    if (!addressing.relates_to.empty()) add(header, wsa, "RelatesTo", addressing.relates_to);
  }

  // A text node holds the literal value; the serializer escapes it. ns == nullptr means
  // unqualified (xmlNewChild would inherit the parent's namespace instead).
  static xmlNode* add(xmlNode* parent, xmlNs* ns, const char* name, const std::string& text = {}) {
    xmlNode* node = xmlAddChild(parent, xmlNewDocNode(parent->doc, ns, X(name), nullptr));
    if (!text.empty()) xmlNodeAddContent(node, X(xml_safe(text).c_str()));
    return node;
  }
  static void attr(xmlNode* node, const char* name, const std::string& value) {
    xmlNewProp(node, X(name), X(xml_safe(value).c_str()));
  }

  std::string serialize() const {
    xmlChar* buffer = nullptr;
    int size = 0;
    xmlDocDumpFormatMemoryEnc(doc_.get(), &buffer, &size, "UTF-8", 0);
    std::string out(reinterpret_cast<const char*>(buffer), static_cast<size_t>(size));
    xmlFree(buffer);
    return out;
  }

  xmlNs* env = nullptr;
  xmlNs* wsa = nullptr;
  xmlNs* osci = nullptr;
  xmlNs* meta = nullptr;
  xmlNs* xta = nullptr;
  xmlNode* header = nullptr;
  xmlNode* body = nullptr;

 private:
  std::unique_ptr<xmlDoc, DocFree> doc_;
};

void add_party(Envelope& e, xmlNode* parent, const char* role, const std::string& id) {
  xmlNode* party = Envelope::add(parent, e.meta, role);
  xmlNode* identifier = Envelope::add(party, e.meta, "Identifier", id);
  Envelope::attr(identifier, "type", "xoev");  // praefix:kennung of the XÖV routing head
}

void add_metadata(Envelope& e, xmlNode* parent, const MailboxEntry& m) {
  xmlNode* md = Envelope::add(parent, e.meta, "MessageMetaData");
  xmlNode* delivery = Envelope::add(md, e.meta, "DeliveryAttributes");
  if (looks_like_datetime(m.accepted_at)) Envelope::add(delivery, e.meta, "Origin", m.accepted_at);
  if (looks_like_datetime(m.stored_at)) Envelope::add(delivery, e.meta, "Delivery", m.stored_at);
  add_party(e, Envelope::add(md, e.meta, "Originators"), "Author", m.sender);
  add_party(e, Envelope::add(md, e.meta, "Destinations"), "Reader", m.recipient);
  Envelope::add(Envelope::add(md, e.meta, "MsgIdentification"), e.wsa, "MessageID", m.message_id);
  xmlNode* qualifier = Envelope::add(md, e.meta, "Qualifier");
  Envelope::add(qualifier, e.meta, "Service", "urn:xoevgate:standard:" + uri_part(m.standard));
  Envelope::add(Envelope::add(qualifier, e.meta, "BusinessScenario"), e.meta, "Undefined",
                m.standard.empty() ? "unknown" : m.standard);
  xmlNode* type = Envelope::add(qualifier, e.meta, "MessageType");
  Envelope::attr(type, "listURI", "urn:xoevgate:messagetype:" + uri_part(m.standard));
  Envelope::attr(type, "listVersionID", "1");
  Envelope::attr(type, "payloadSchema",
                 m.payload_namespace.empty() ? "urn:xoevgate:payload:unknown" : m.payload_namespace);
  Envelope::add(type, nullptr, "code", m.message_type.empty() ? "unknown" : m.message_type);  // unqualified
  if (m.size > 0) Envelope::add(md, e.meta, "MsgSize", std::to_string(m.size));
}

void add_attributes(Envelope& e, xmlNode* parent, const MailboxEntry& m) {
  xmlNode* a = Envelope::add(parent, e.osci, "MsgAttributes");
  Envelope::add(a, e.wsa, "MessageID", m.message_id);
  Envelope::add(a, e.osci, "TypeOfBusinessScenario", "urn:xoevgate:standard:" + uri_part(m.standard));
  Envelope::add(a, e.osci, "MsgSize", std::to_string(m.size));
  Envelope::add(a, e.osci, "DeliveryTime", m.stored_at);
}

void add_msgbox_response(Envelope& e, std::size_t items_pending, bool none_available) {
  xmlNode* r = Envelope::add(e.header, e.osci, "MsgBoxResponse");
  Envelope::attr(r, "MsgBoxRequestID", new_urn_uuid());
  if (none_available) {
    Envelope::attr(Envelope::add(r, e.osci, "NoMessageAvailable"), "reason", kReasonNoMatch);
  } else {
    Envelope::add(r, e.osci, "ItemsPending", std::to_string(items_pending));
  }
}

}  // namespace

std::string new_urn_uuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint64_t hi = (rng() & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  const std::uint64_t lo = (rng() & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // RFC 4122 variant
  char buf[64];
  std::snprintf(buf, sizeof buf, "urn:uuid:%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

std::string status_list_response(const Addressing& addressing, const std::vector<MailboxEntry>& listed,
                                 std::size_t items_beyond, bool as_attributes) {
  Envelope e(addressing);
  add_msgbox_response(e, items_beyond, listed.empty());
  xmlNode* list = Envelope::add(e.body, e.osci, "MsgStatusList");
  for (const auto& m : listed) {
    if (as_attributes) {
      add_attributes(e, list, m);
    } else {
      add_metadata(e, list, m);
    }
  }
  return e.serialize();
}

namespace {

// The getMessage envelope; `content` is base64 (inline) or empty (the caller adds xop:Include).
xmlNode* add_message(Envelope& e, const MailboxEntry& entry, std::size_t items_pending, const std::string& content) {
  // WSDL order of the output headers: MessageMetaData, then MsgBoxResponse.
  add_metadata(e, e.header, entry);
  add_msgbox_response(e, items_pending, false);
  xmlNode* container = Envelope::add(Envelope::add(e.body, e.xta, "GenericContentContainer"), e.xta, "ContentContainer");
  xmlNode* payload = Envelope::add(container, e.xta, "Message", content);
  Envelope::attr(payload, "contentType", "application/xml");
  Envelope::attr(payload, "filename", entry.message_id.empty() ? "message.xml" : entry.message_id + ".xml");
  if (entry.size > 0) Envelope::attr(payload, "size", std::to_string(entry.size));
  return payload;
}

}  // namespace

std::string message_response(const Addressing& addressing, const MailboxMessage& message, std::size_t items_pending) {
  Envelope e(addressing);
  MailboxEntry entry = message.entry;
  entry.size = message.body.size();
  add_message(e, entry, items_pending, base64(message.body));
  return e.serialize();
}

MtomMessage message_response_mtom(const Addressing& addressing, const MailboxEntry& entry, std::size_t items_pending) {
  Envelope e(addressing);
  xmlNode* payload = add_message(e, entry, items_pending, {});
  // A fresh boundary and ids per answer: random, so the raw bytes cannot be made to
  // contain the boundary on purpose. "urn:uuid:" is stripped: ids are addr-spec like.
  const std::string id = new_urn_uuid().substr(9);
  const std::string boundary = "MIMEBoundary_" + id;
  const std::string root_cid = "root." + id + "@xoevgate";
  const std::string content_cid = "message." + id + "@xoevgate";
  xmlNs* xop = xmlNewNs(payload, X("http://www.w3.org/2004/08/xop/include"), X("xop"));
  Envelope::attr(Envelope::add(payload, xop, "Include"), "href", "cid:" + content_cid);
  MtomMessage m;
  m.content_type = "multipart/related; type=\"application/xop+xml\"; boundary=\"" + boundary + "\"; start=\"<" +
                   root_cid + ">\"; start-info=\"application/soap+xml\"";
  m.head = "--" + boundary +
           "\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"\r\n"
           "Content-Transfer-Encoding: binary\r\nContent-ID: <" + root_cid + ">\r\n\r\n" + e.serialize() +
           "\r\n--" + boundary +
           "\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <" +
           content_cid + ">\r\n\r\n";
  m.tail = "\r\n--" + boundary + "--\r\n";
  return m;
}

std::string empty_response(const Addressing& addressing) { return Envelope(addressing).serialize(); }

std::string fault_response(const Addressing& addressing, const SoapFault& fault) {
  Envelope e(addressing);
  xmlNode* f = Envelope::add(e.body, e.env, "Fault");
  Envelope::add(Envelope::add(f, e.env, "Code"), e.env, "Value", "env:" + fault.code);
  xmlNode* text = Envelope::add(Envelope::add(f, e.env, "Reason"), e.env, "Text", fault.reason);
  xmlNodeSetLang(text, X("en"));
  if (!fault.xta_exception.empty()) {
    xmlNode* exception = Envelope::add(Envelope::add(f, e.env, "Detail"), e.xta, fault.xta_exception.c_str());
    xmlNode* code = Envelope::add(exception, e.xta, "errorCode");
    Envelope::attr(code, "listURI", kErrorCodeListUri);
    Envelope::attr(code, "listVersionID", kErrorCodeListVersion);
    Envelope::add(code, nullptr, "code", fault.error_code);  // unqualified, as Code.Fehlernummer says
    Envelope::add(code, nullptr, "name", fault.error_name);
  }
  return e.serialize();
}

}  // namespace xoev::xta
