// `xoevgate version`: what is running, for support calls and bug reports.
#include <librdkafka/rdkafka.h>
#include <libxml/xmlversion.h>
#include <openssl/crypto.h>

#include <iostream>

#include "gateway/cli/command.h"
#include "gateway/cli/version.h"
#include "gateway/core/allocator_tuning.h"

namespace {
XOEVGATE_COMMAND("version", "print the versions of xoevgate and its libraries", [](CLI::App&) {
  return [] {
    std::cout << "xoevgate " << xoev::kVersion << "\nlibrdkafka " << rd_kafka_version_str() << "\nlibxml2 " << LIBXML_DOTTED_VERSION
              << "\n" << OpenSSL_version(OPENSSL_VERSION) << "\nmalloc: " << xoev::describe(xoev::allocator_tuning())
              << "\n";
    return 0;
  };
});
}  // namespace
