// Delivers by POSTing the exact XML bytes to the Fachverfahren's URL, with
// `Idempotency-Key: <messageId>` on every attempt (so a target that saw a request
// whose answer got lost can drop the repeat), optional mTLS client certificate and
// an HMAC-SHA256 signature header. 2xx → delivered; 4xx (except 408/429) → rejected,
// never retried; 5xx, 408, 429, timeouts and refused connections → retried.
#pragma once

#include "adapters/outbound/outbound_adapter.h"
#include "adapters/outbound/http/http_settings.h"
#include "gateway/crypto/hmac_signature.h"
#include "gateway/http/http_client.h"

namespace xoev {

// Settings are parsed and checked by http_factory.cpp; without hmac_secret_file no
// signature header is sent.
Result<OutboundAdapterPtr> make_http_adapter(const HttpSettings& settings);
http::HttpClient::Options http_client_options(const HttpSettings& settings);
// Reads an HMAC secret file: trailing CR/LF dropped, at least kMinHmacSecretBytes.
Result<std::string> read_hmac_secret(const std::filesystem::path& file);


}  // namespace xoev
