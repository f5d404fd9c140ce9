#include "gateway/http/peer_certificate.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

namespace xoev::http {

namespace {
std::string colon_hex(const unsigned char* data, unsigned size) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < size; ++i) {
    if (i) out += ':';
    out += hex[data[i] >> 4];
    out += hex[data[i] & 15];
  }
  return out;
}

std::string rfc2253(X509_NAME* name) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}
}  // namespace

std::optional<PeerCertificate> read_peer_certificate(SSL* ssl) {
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), &X509_free);
  if (!cert) return std::nullopt;
  PeerCertificate out;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  if (X509_digest(cert.get(), EVP_sha256(), digest, &size) == 1) out.sha256 = colon_hex(digest, size);
  out.subject = rfc2253(X509_get_subject_name(cert.get()));
  const long verdict = SSL_get_verify_result(ssl);
  out.chained = verdict == X509_V_OK;
  if (!out.chained) out.verify_error = X509_verify_cert_error_string(verdict);
  return out;
}

}  // namespace xoev::http
