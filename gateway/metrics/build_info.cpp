#include "gateway/metrics/build_info.h"

#include <openssl/crypto.h>
#include <librdkafka/rdkafka.h>

#include "gateway/cli/version.h"

namespace xoev::metrics {

void write_build_info(Exposition& out) {
  out.family("xoevgate_build_info", "Always 1; the labels say which build and libraries run.", MetricType::gauge)
      .sample({{"version", std::string(kVersion)},
               {"compiler", __VERSION__},
               {"librdkafka", rd_kafka_version_str()},
               {"openssl", OpenSSL_version(OPENSSL_VERSION_STRING)}},
              1);
}

}  // namespace xoev::metrics
