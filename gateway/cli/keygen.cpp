// `xoevgate keygen`: a new key pair as JWK files, KID.jwk (private, 0600) and
// KID.pub.jwk, for the gateway's signing key or a destination's encryption key.
#include <filesystem>
#include <iostream>
#include <regex>

#include "gateway/cli/command.h"
#include "gateway/crypto/jwe.h"
#include "gateway/crypto/jws.h"
#include "gateway/crypto/key_file.h"

namespace {

using xoev::Problem;
using xoev::ProblemKind;
using xoev::crypto::Jwk;

struct Options {
  std::string alg;
  std::string kid;
  std::string out;
  std::string crv = "P-256";
  unsigned bits = 4096;
};

int run(const Options& o) {
  namespace fs = std::filesystem;
  // The kid becomes a file name: keep it to a portable, traversal-free alphabet.
  static const std::regex kid_pattern("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  if (!std::regex_match(o.kid, kid_pattern))
    return xoev::cli::fail(Problem::make(ProblemKind::usage, "--kid must match [A-Za-z0-9][A-Za-z0-9._-]* (it names the files)"));
  Jwk::Type type;
  std::string use = "enc";
  if (o.alg == xoev::crypto::kAlgRsaOaep256) {
    if (o.bits != 3072 && o.bits != 4096)
      return xoev::cli::fail(Problem::make(ProblemKind::usage, "--bits must be 3072 or 4096"));
    type = Jwk::Type::rsa;
  } else if (o.alg == xoev::crypto::kAlgEcdhEsA256kw) {
    if (o.crv != "P-256" && o.crv != "X25519")
      return xoev::cli::fail(Problem::make(ProblemKind::usage, "--crv must be P-256 or X25519"));
    type = o.crv == "X25519" ? Jwk::Type::x25519 : Jwk::Type::ec_p256;
  } else if (o.alg == xoev::crypto::kAlgEs256) {
    type = Jwk::Type::ec_p256;
    use = "sig";
  } else if (o.alg == xoev::crypto::kAlgEdDsa) {
    type = Jwk::Type::ed25519;
    use = "sig";
  } else {
    return xoev::cli::fail(Problem::make(ProblemKind::usage,
                                         "--alg must be one of RSA-OAEP-256, ECDH-ES+A256KW, ES256, EdDSA; got \"" + o.alg + "\""));
  }
  const fs::path dir(o.out);
  const fs::path private_file = dir / (o.kid + ".jwk");
  const fs::path public_file = dir / (o.kid + ".pub.jwk");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return xoev::cli::fail(Problem::make(ProblemKind::io_error, "cannot create " + dir.string() + ": " + ec.message()));
  for (const auto& f : {private_file, public_file})
    if (fs::exists(f, ec))
      return xoev::cli::fail(Problem::make(ProblemKind::io_error, f.string() + " exists; refusing to overwrite a key"));

  auto key = Jwk::generate(type, o.kid, o.alg, o.bits);
  if (!key) return xoev::cli::fail(key.problem());
  key->set_use(use);
  if (auto s = xoev::crypto::write_jwk_file(private_file, *key, true); !s) return xoev::cli::fail(s.problem());
  if (auto s = xoev::crypto::write_jwk_file(public_file, *key, false); !s) return xoev::cli::fail(s.problem());
  std::cout << "wrote " << private_file.string() << " (private, 0600) and " << public_file.string() << " ("
            << o.alg << ", " << key->describe() << ", kid=" << o.kid << ")\n";
  return 0;
}

XOEVGATE_COMMAND("keygen", "generate a key pair: KID.jwk (private, mode 0600) and KID.pub.jwk", [](CLI::App& sub) {
  auto o = std::make_shared<Options>();
  sub.add_option("--alg", o->alg, "RSA-OAEP-256 | ECDH-ES+A256KW (encryption), ES256 | EdDSA (signatures)")->required();
  sub.add_option("--kid", o->kid, "key id, also the file name")->required();
  sub.add_option("--out", o->out, "directory for the two files (created if missing)")->required();
  sub.add_option("--crv", o->crv, "curve for ECDH-ES+A256KW: P-256 (default) or X25519");
  sub.add_option("--bits", o->bits, "RSA modulus size for RSA-OAEP-256: 3072 or 4096 (default)");
  return [o] { return run(*o); };
});

}  // namespace
