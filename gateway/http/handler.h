// The contract between the server and the application.
#pragma once

#include <functional>

#include "gateway/http/http_request.h"
#include "gateway/http/http_response.h"

namespace xoev::http {

// Sends the answer. Call it exactly once, from any thread, at any time: it never blocks,
// and it does nothing harmful if the client or even the server is already gone. Later
// calls are ignored; a Responder dropped without being called answers 500.
using Responder = std::function<void(HttpResponse)>;

// Runs on an I/O thread: must not block. Slow work goes elsewhere and answers through
// the Responder. An exception thrown here becomes a 500 problem+json.
using Handler = std::function<void(HttpRequest&&, Responder)>;

}  // namespace xoev::http
