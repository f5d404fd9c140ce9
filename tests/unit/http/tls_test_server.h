// A real TLS 1.2+/HTTP server for client tests (the gateway's own server gets TLS with
// the security issue). It demands a client certificate from `client_ca` and answers
// every request with 200 and the client certificate's subject CN.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace xoev::http::test {

class TlsTestServer {
 public:
  TlsTestServer(const std::string& cert, const std::string& key, const std::string& client_ca);
  ~TlsTestServer();
  TlsTestServer(const TlsTestServer&) = delete;
  TlsTestServer& operator=(const TlsTestServer&) = delete;

  std::uint16_t port() const;
  int handshake_failures() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xoev::http::test
