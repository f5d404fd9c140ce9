#include "test_pki.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace xoev::http::test {

namespace {

bool run(const std::string& command) {
  const int rc = std::system((command + " >/dev/null 2>&1").c_str());
  if (rc != 0) ADD_FAILURE() << "failed (" << rc << "): " << command;
  return rc == 0;
}

const char* kEcKey = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";

bool make_ca(const std::string& dir, const std::string& name, const std::string& cn) {
  return run("openssl req -x509 " + std::string(kEcKey) + " -days 2 -keyout " + dir + "/" + name + ".key -out " + dir +
             "/" + name + ".pem -subj '/CN=" + cn + "' -addext basicConstraints=critical,CA:TRUE" +
             " -addext keyUsage=critical,keyCertSign,cRLSign");
}

bool make_leaf(const std::string& dir, const std::string& name, const std::string& cn, const std::string& ca,
               const std::string& extensions) {
  const std::string ext_file = dir + "/" + name + ".ext";
  std::ofstream(ext_file) << extensions << "\n";
  return run("openssl req " + std::string(kEcKey) + " -keyout " + dir + "/" + name + ".key -out " + dir + "/" + name +
             ".csr -subj '/CN=" + cn + "'") &&
         run("openssl x509 -req -days 2 -in " + dir + "/" + name + ".csr -CA " + dir + "/" + ca + ".pem -CAkey " + dir +
             "/" + ca + ".key -CAcreateserial -out " + dir + "/" + name + ".pem -extfile " + ext_file);
}

}  // namespace

TestPki TestPki::create() {
  TestPki pki;
  std::string templ = (std::filesystem::temp_directory_path() / "xoev-pki-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return pki;
  }
  const std::string& d = templ;
  const bool ok =
      make_ca(d, "ca", "xoev test CA") && make_ca(d, "other-ca", "unrelated CA") &&
      make_leaf(d, "server", "localhost", "ca",
                "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth") &&
      make_leaf(d, "client", "online-dienst-a", "ca", "extendedKeyUsage=clientAuth") &&
      make_leaf(d, "wrong-host", "other.example", "ca", "subjectAltName=DNS:other.example\nextendedKeyUsage=serverAuth");
  pki.dir = d;
  if (!ok) return pki;
  pki.ca_cert = d + "/ca.pem";
  pki.server_cert = d + "/server.pem";
  pki.server_key = d + "/server.key";
  pki.client_cert = d + "/client.pem";
  pki.client_key = d + "/client.key";
  pki.other_ca_cert = d + "/other-ca.pem";
  pki.other_ca_key = d + "/other-ca.key";
  pki.wrong_host_cert = d + "/wrong-host.pem";
  pki.wrong_host_key = d + "/wrong-host.key";
  return pki;
}

TestPki::~TestPki() {
  if (dir.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace xoev::http::test
