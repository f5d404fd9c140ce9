// The answers the server gives on its own when a request exceeds a resource cap:
// problem+json like every other refusal, with statuses no ProblemKind carries.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "gateway/http/http_response.h"

namespace xoev::http {

// 431 urn:xoevgate:problem:header-too-large
HttpResponse header_too_large(std::size_t limit);
// 503 urn:xoevgate:problem:server-busy with Retry-After: the cause passes, retrying helps.
HttpResponse server_busy(std::string detail, std::chrono::seconds retry_after);
// The same 503 as raw HTTP/1.1 bytes with Connection: close, for a connection the
// server will not start a session for.
std::string server_busy_bytes(std::string detail, std::chrono::seconds retry_after);

}  // namespace xoev::http
