// `xoevgate hash-secret`: reads a client secret from stdin (one line) and prints the
// value for senders[].client_secret_hash. The secret itself never goes into the config.
#include <iostream>
#include <string>

#include "gateway/auth/secret_hash.h"
#include "gateway/cli/command.h"

namespace {

XOEVGATE_COMMAND("hash-secret", "hash a client secret (read from stdin) for senders[].client_secret_hash",
                 [](CLI::App& app) {
                   auto iterations = std::make_shared<unsigned>(xoev::auth::kDefaultSecretIterations);
                   app.add_option("--iterations", *iterations, "PBKDF2 iterations")->check(CLI::Range(10000u, 10000000u));
                   return [=]() -> int {
                     std::string secret;
                     std::getline(std::cin, secret);
                     if (secret.size() < 16)
                       return xoev::cli::fail(xoev::Problem::make(xoev::ProblemKind::usage,
                                                                  "a client secret needs at least 16 characters"));
                     auto hash = xoev::auth::hash_secret(secret, *iterations);
                     if (!hash) return xoev::cli::fail(hash.problem());
                     std::cout << *hash << "\n";
                     return 0;
                   };
                 });

}  // namespace
