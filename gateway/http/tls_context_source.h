// The server side of TLS: TLS 1.2+ only, forward-secret AEAD ciphers, certificate and
// key from files, optionally asking for client certificates that chain to client_ca.
// A TlsContextSource hands each new connection the current context; replace() (on
// SIGHUP) swaps it for new connections while open ones keep theirs.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <memory>
#include <mutex>

#include "gateway/core/result.h"

namespace xoev::http {

struct TlsFiles {
  std::filesystem::path certificate;  // PEM chain, leaf first
  std::filesystem::path private_key;  // PEM
  std::filesystem::path client_ca;    // PEM bundle; empty: no client certificates asked for
};

// Every file read and checked now (a key that does not fit the certificate is a Problem).
Result<std::shared_ptr<boost::asio::ssl::context>> make_server_tls_context(const TlsFiles& files);

class TlsContextSource {
 public:
  explicit TlsContextSource(std::shared_ptr<boost::asio::ssl::context> context) : context_(std::move(context)) {}
  std::shared_ptr<boost::asio::ssl::context> current() const {
    std::lock_guard lock(mutex_);
    return context_;
  }
  void replace(std::shared_ptr<boost::asio::ssl::context> context) {
    std::lock_guard lock(mutex_);
    context_ = std::move(context);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> context_;
};

}  // namespace xoev::http
