// The one message type as a Kafka record and back: the only place that knows which
// record header carries which field of a Message (CONTRACTS.md §3). Ingest turns the
// validated Message into a record before sealing; the deliverer turns the verified
// record back into a Message for the adapter.
#pragma once

#include <string>

#include "gateway/core/message.h"
#include "gateway/kafka/envelope.h"

namespace xoev {

// key = message id, value = body (still plaintext: crypto::seal encrypts it), headers
// from the message's fields plus content-type.
Envelope to_record(Message message, std::string topic);
// Every field from the headers; body and attempt are left for the caller (the value
// is still sealed).
Message from_record(const Envelope& record);

}  // namespace xoev
