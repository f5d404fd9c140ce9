#include "gateway/api/token_request.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>

namespace xoev {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > 4096) return {};
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return {};
  out.resize(static_cast<std::size_t>(n));
  if (text.size() >= 1 && text[text.size() - 1] == '=') out.pop_back();
  if (text.size() >= 2 && text[text.size() - 2] == '=') out.pop_back();
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}
}  // namespace

std::string form_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

TokenRequest parse_token_request(const http::HttpRequest& request) {
  TokenRequest out;
  const std::string ct = lower(request.header("content-type"));
  if (ct.rfind("application/x-www-form-urlencoded", 0) != 0) {
    out.error = "invalid_request";
    out.description = "send the token request as application/x-www-form-urlencoded";
    return out;
  }
  std::map<std::string, std::string> form;
  std::string_view body = request.body;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const auto pair = body.substr(0, amp);
    const auto eq = pair.find('=');
    const std::string name = form_decode(pair.substr(0, eq));
    if (form.count(name)) {
      out.error = "invalid_request";
      out.description = "parameter '" + name.substr(0, 64) + "' is given twice";
      return out;
    }
    form[name] = eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1));
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
  }
  if (form["grant_type"] != "client_credentials") {
    out.error = form["grant_type"].empty() ? "invalid_request" : "unsupported_grant_type";
    out.description = "grant_type must be client_credentials";
    return out;
  }
  const std::string authorization = request.header("authorization");
  if (lower(authorization.substr(0, 6)) == "basic ") {
    const std::string pair = base64_decode(authorization.substr(6));
    const auto colon = pair.find(':');
    if (colon == std::string::npos) {
      out.error = "invalid_client";
      out.description = "the Basic credentials are malformed";
      return out;
    }
    out.used_basic = true;
    out.client_id = form_decode(pair.substr(0, colon));
    out.client_secret = form_decode(pair.substr(colon + 1));
    if (form.count("client_secret")) {
      out.error = "invalid_request";
      out.description = "use one client authentication method, not Basic and client_secret both";
    }
    return out;
  }
  out.client_id = form["client_id"];
  out.client_secret = form["client_secret"];
  if (out.client_id.empty() || out.client_secret.empty()) {
    out.error = "invalid_client";
    out.description = "client_id and client_secret are required (client_secret_post or client_secret_basic)";
  }
  return out;
}

http::HttpResponse token_error(int status, const std::string& error, const std::string& description, bool) {
  auto response = http::HttpResponse::json(status, {{"error", error}, {"error_description", description}});
  response.headers.emplace_back("Cache-Control", "no-store");
  if (status == 401) response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"xoevgate\"");
  return response;
}

}  // namespace xoev
