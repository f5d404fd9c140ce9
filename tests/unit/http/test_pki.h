// A throwaway PKI made with the openssl command line tool in a temporary directory:
// a CA, a server certificate for 127.0.0.1/localhost, a client certificate, and a
// second, unrelated CA with a certificate for the wrong host.
#pragma once

#include <string>

namespace xoev::http::test {

struct TestPki {
  std::string dir;
  std::string ca_cert, server_cert, server_key, client_cert, client_key;
  std::string other_ca_cert, other_ca_key;
  std::string wrong_host_cert, wrong_host_key;  // signed by ca_cert, but only for other.example

  // Empty `dir` and a gtest failure if openssl is missing or fails.
  static TestPki create();
  ~TestPki();
};

}  // namespace xoev::http::test
