// POST /v1/token as RFC 6749 §4.4 (client credentials) asks: a form body with
// grant_type=client_credentials, the client authenticating with client_secret_post
// (client_id/client_secret in the body) or client_secret_basic (HTTP Basic, §2.3.1).
// Errors as §5.2: {"error": …, "error_description": …}.
#pragma once

#include <string>

#include "gateway/http/http_request.h"
#include "gateway/http/http_response.h"

namespace xoev {

struct TokenRequest {
  std::string client_id, client_secret;
  bool used_basic = false;
  std::string error, description;  // set when the request is malformed
};

TokenRequest parse_token_request(const http::HttpRequest& request);
http::HttpResponse token_error(int status, const std::string& error, const std::string& description, bool basic_challenge);

// application/x-www-form-urlencoded value decoding ('+' is a space).
std::string form_decode(std::string_view text);

}  // namespace xoev
