// Builds the SOAP 1.2 responses of the XTA mailbox with libxml2's tree API, so every
// text and attribute is escaped by the serializer, not by hand.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "adapters/outbound/xta/xta_mailbox.h"

namespace xoev::xta {

// "urn:uuid:<random v4>" for wsa:MessageID and MsgBoxRequestID.
std::string new_urn_uuid();

// The WS-Addressing header every response carries.
struct Addressing {
  std::string action;
  std::string relates_to;  // the request's wsa:MessageID; empty: none
};

// getStatusList: osci:MsgBoxResponse header (ItemsPending = items beyond this list, or
// NoMessageAvailable when there are none) and osci:MsgStatusList in the body, as
// MessageMetaData (default) or MsgAttributes (ListForm="MsgAtrributes").
std::string status_list_response(const Addressing& addressing, const std::vector<MailboxEntry>& listed,
                                 std::size_t items_beyond, bool as_attributes);

// getMessage: MessageMetaData and MsgBoxResponse headers, the message base64 in
// xta:GenericContentContainer/ContentContainer/Message.
std::string message_response(const Addressing& addressing, const MailboxMessage& message, std::size_t items_pending);

// getMessage of a message above kInlineBodyBytes, as MTOM (XOP over SOAP 1.2, as the
// XTA WSDL's OptimizedMimeSerialization policy asks): multipart/related whose root part
// is the same envelope with xop:Include in xta:Message, and whose second part is the
// message's raw bytes. The caller sends head, the bytes, tail.
struct MtomMessage {
  std::string content_type;  // multipart/related; type="application/xop+xml"; boundary=…
  std::string head;          // the root part and the attachment's part headers
  std::string tail;          // the closing boundary
};
MtomMessage message_response_mtom(const Addressing& addressing, const MailboxEntry& entry, std::size_t items_pending);

// close: an empty body.
std::string empty_response(const Addressing& addressing);

// A SOAP 1.2 fault. code: "Sender", "Receiver", "MustUnderstand" or "VersionMismatch".
// xta_exception: e.g. "InvalidMessageIDException" (detail with errorCode), empty: no detail.
struct SoapFault {
  std::string code = "Sender";
  std::string reason;
  std::string xta_exception;
  std::string error_code;
  std::string error_name;
};
std::string fault_response(const Addressing& addressing, const SoapFault& fault);

}  // namespace xoev::xta
