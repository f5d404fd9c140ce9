// Forwards to a peer xoevgate (another state's): POSTs the exact decrypted bytes to
// <url>/v1/messages, authenticated by this gateway's client certificate (mutual TLS)
// and optionally a bearer token. The message keeps its id: the peer reads the same
// nachrichtenUUID from the XML, validates and routes it again under its own rules.
//   202 / 200 (already accepted: an idempotent resend) → handed on (`forwarded`)
//   401, 408, 429, 5xx, no answer                      → retried (Retry-After honoured)
//   other 4xx (400, 403, 413, 415, 422 ...)             → rejected with the peer's problem
// Afterwards the delivery loop asks GET <url>/v1/messages/{id} (HandOver::ask_status)
// until the peer reports delivered, rejected or dead-lettered.
#pragma once

#include "adapters/outbound/outbound_adapter.h"
#include "adapters/outbound/gateway/gateway_settings.h"
#include "gateway/http/http_client.h"

namespace xoev {

Result<OutboundAdapterPtr> make_gateway_adapter(const GatewaySettings& settings);
http::HttpClient::Options gateway_client_options(const GatewaySettings& settings);
// The bearer token in `file` without trailing CR/LF; a Problem when unreadable or empty.
Result<std::string> read_peer_token(const std::filesystem::path& file);

}  // namespace xoev
