#include "adapters/outbound/xta/xta_soap_handler.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "adapters/outbound/xta/xta_protocol.h"
#include "adapters/outbound/xta/xta_soap_writer.h"
#include "gateway/core/xml_document.h"

namespace xoev::xta {
namespace {

bool is(const xmlNode* n, std::string_view ns, std::string_view local) {
  return n && n->type == XML_ELEMENT_NODE && namespace_of(n) == ns && local_name(n) == local;
}

const xmlNode* child(const xmlNode* parent, std::string_view ns, std::string_view local) {
  for (const xmlNode* c : child_elements(parent))
    if (is(c, ns, local)) return c;
  return nullptr;
}

SoapReply fault(const Addressing& a, SoapFault f) {
  const int status = f.code == "Sender" ? 400 : 500;
  return {status, fault_response(a, f)};
}

SoapReply invalid_id(const Addressing& a, const std::string& reason) {
  return fault(a, {"Sender", reason, "InvalidMessageIDException", kErrorInvalidMessageId, "Message ID unknown"});
}

SoapReply technical(const Addressing& a, const Problem& p) {
  return fault(a, {"Receiver", p.detail, "XTAWSTechnicalProblemException", kErrorTechnicalProblem,
                   "Technical problem of the XTA server"});
}

// SOAP 1.2 booleans for mustUnderstand: "true" or "1".
bool must_understand(const xmlNode* header_block) {
  const std::string v = [&] {
    xmlChar* raw = xmlGetNsProp(header_block, reinterpret_cast<const xmlChar*>("mustUnderstand"),
                                reinterpret_cast<const xmlChar*>(kSoap12Namespace));
    std::string s = raw ? reinterpret_cast<const char*>(raw) : "";
    xmlFree(raw);
    return s;
  }();
  return v == "true" || v == "1";
}

SoapReply get_status_list(Mailbox& mailbox, const xmlNode* request, const Addressing& a) {
  std::size_t max_items = SIZE_MAX;
  if (const std::string m = attribute(request, "maxListItems"); !m.empty()) {
    std::size_t parsed = 0;
    const auto [end, ec] = std::from_chars(m.data(), m.data() + m.size(), parsed);
    if (ec != std::errc() || end != m.data() + m.size() || parsed == 0)
      return fault(a, {"Sender", "maxListItems must be a positive integer, got '" + m + "'", "", "", ""});
    max_items = parsed;
  }
  const bool as_attributes = attribute(request, "ListForm") == "MsgAtrributes";  // sic, as in OSCI2_02.xsd

  // A MsgSelector with message ids narrows the list to those ids.
  std::set<std::string> wanted;
  if (const xmlNode* selector = child(request, kOsciNamespace, "MsgSelector"))
    for (const xmlNode* c : child_elements(selector))
      if (is(c, kWsaNamespace, "MessageID")) wanted.insert(text_of(c));

  auto pending = mailbox.pending();
  if (!pending) return technical(a, pending.problem());
  std::vector<MailboxEntry> entries = std::move(pending).value();
  if (!wanted.empty())
    std::erase_if(entries, [&](const MailboxEntry& e) { return !wanted.contains(e.message_id); });
  const std::size_t beyond = entries.size() > max_items ? entries.size() - max_items : 0;
  entries.resize(entries.size() - beyond);
  return {200, status_list_response(a, entries, beyond, as_attributes)};
}

SoapReply get_message(Mailbox& mailbox, const xmlNode* request, const Addressing& a) {
  const xmlNode* id_node = nullptr;
  if (const xmlNode* selector = child(request, kOsciNamespace, "MsgSelector"))
    id_node = child(selector, kWsaNamespace, "MessageID");
  if (!id_node) return invalid_id(a, "MsgBoxFetchRequest needs MsgSelector/wsa:MessageID");
  const std::string id = text_of(id_node);
  auto message = mailbox.get(id);
  if (!message) {
    if (message.problem().kind == ProblemKind::not_found)
      return invalid_id(a, mailbox.knows(id) ? "message '" + id + "' is already closed"
                                             : "no message '" + id + "' in this mailbox");
    return technical(a, message.problem());
  }
  auto pending = mailbox.pending();
  const std::size_t others = pending.ok() && !pending->empty() ? pending->size() - 1 : 0;
  if (message->body_file) {
    MtomMessage mtom = message_response_mtom(a, message->entry, others);
    SoapReply reply{200, std::move(mtom.head)};
    reply.content_type = std::move(mtom.content_type);
    reply.attachment = std::move(message->body_file);
    reply.after = std::move(mtom.tail);
    return reply;
  }
  return {200, message_response(a, *message, others)};
}

SoapReply close_messages(Mailbox& mailbox, const xmlNode* request, const Addressing& a) {
  std::vector<std::string> ids;
  for (const xmlNode* c : child_elements(request))
    if (is(c, kOsciNamespace, "LastMsgReceived")) ids.push_back(text_of(c));
  // All or nothing: an unknown id fails the request before anything is acknowledged.
  for (const auto& id : ids)
    if (!mailbox.knows(id)) return invalid_id(a, "no message '" + id + "' in this mailbox");
  for (const auto& id : ids) {
    auto closed = mailbox.close(id);
    if (!closed) {
      if (closed.problem().kind == ProblemKind::not_found) return invalid_id(a, closed.problem().detail);
      return technical(a, closed.problem());
    }
  }
  return {200, empty_response(a)};
}

}  // namespace

SoapReply handle_soap_request(Mailbox& mailbox, std::string_view request_body) {
  Addressing a{kActionFault, {}};
  auto parsed = XmlDocument::parse(request_body, kMaxSoapRequestBytes);
  if (!parsed) return fault(a, {"Sender", "malformed request: " + parsed.problem().detail, "", "", ""});
  const xmlNode* envelope = parsed->root();
  if (local_name(envelope) == "Envelope" && namespace_of(envelope) == kSoap11Namespace)
    return fault(a, {"VersionMismatch", "this endpoint speaks SOAP 1.2 (" + std::string(kSoap12Namespace) + ")", "", "", ""});
  if (!is(envelope, kSoap12Namespace, "Envelope"))
    return fault(a, {"Sender", "the document is not a SOAP 1.2 Envelope", "", "", ""});
  const xmlNode* body = child(envelope, kSoap12Namespace, "Body");
  if (!body) return fault(a, {"Sender", "the Envelope has no Body", "", "", ""});

  std::string action;
  if (const xmlNode* header = child(envelope, kSoap12Namespace, "Header")) {
    for (const xmlNode* block : child_elements(header)) {
      if (is(block, kWsaNamespace, "Action")) {
        action = text_of(block);
      } else if (is(block, kWsaNamespace, "MessageID")) {
        a.relates_to = text_of(block);
      } else if (must_understand(block) && namespace_of(block) != kWsaNamespace &&
                 !is(block, kOsciMetaNamespace, "Author")) {
        return fault(a, {"MustUnderstand", "header " + element_path(block) + " is not understood", "", "", ""});
      }
    }
  }

  const auto elements = child_elements(body);
  const xmlNode* request = elements.empty() ? nullptr : elements.front();
  struct Operation {
    const char* element;
    const char* action;
    SoapReply (*run)(Mailbox&, const xmlNode*, const Addressing&);
  };
  static constexpr Operation kOperations[] = {
      {"MsgBoxStatusListRequest", kActionStatusList, get_status_list},
      {"MsgBoxFetchRequest", kActionFetch, get_message},
      {"MsgBoxCloseRequest", kActionClose, close_messages},
  };
  for (const auto& op : kOperations) {
    if (!is(request, kOsciNamespace, op.element)) continue;
    a.action = op.action;
    if (!action.empty() && action != op.action)
      return fault(a, {"Sender", "wsa:Action '" + action + "' does not match the body " + op.element, "", "", ""});
    return op.run(mailbox, request, a);
  }
  return fault(a, {"Sender",
                   "unsupported operation: " + (request ? element_path(request) : std::string("empty Body")) +
                       " (this mailbox answers getStatusList, getMessage and close)",
                   "", "", ""});
}

}  // namespace xoev::xta
