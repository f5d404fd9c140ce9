#include "gateway/http/tls_context_source.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace xoev::http {

namespace ssl = boost::asio::ssl;

namespace {
// TLS 1.2 suites: ECDHE (forward secrecy) with AEAD only. TLS 1.3 suites are all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string last_openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

Problem tls_problem(const std::string& what, const std::filesystem::path& file) {
  return Problem::make(ProblemKind::config_invalid, "TLS: cannot " + what + " '" + file.string() + "': " + last_openssl_error());
}
}  // namespace

Result<std::shared_ptr<ssl::context>> make_server_tls_context(const TlsFiles& files) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 || SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1)
    return Problem::make(ProblemKind::internal, "TLS: cannot restrict protocol versions and ciphers: " + last_openssl_error());
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(ctx, files.certificate.c_str()) != 1)
    return tls_problem("load the certificate", files.certificate);
  if (SSL_CTX_use_PrivateKey_file(ctx, files.private_key.c_str(), SSL_FILETYPE_PEM) != 1)
    return tls_problem("load the private key", files.private_key);
  if (SSL_CTX_check_private_key(ctx) != 1)
    return tls_problem("use the private key (it does not fit the certificate)", files.private_key);
  if (!files.client_ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, files.client_ca.c_str(), nullptr) != 1)
      return tls_problem("load the client CA", files.client_ca);
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca.c_str())) SSL_CTX_set_client_CA_list(ctx, names);
    // Asked for, not demanded, and the handshake goes on when the chain fails: the
    // request then gets a 401 problem saying why (and an audit line), not a bare reset.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    SSL_CTX_set_verify_depth(ctx, 8);
  }
  // Session resumption across connections of one context (TLS 1.3 tickets, 1.2 cache).
  static const unsigned char kSessionContext[] = "xoevgate";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  return context;
}

}  // namespace xoev::http
