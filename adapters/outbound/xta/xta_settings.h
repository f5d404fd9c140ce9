// The xta adapter's own configuration:
//   type: xta
//   directory: ../var/xta/standesamt      (required; the mailbox state)
//   listen: 127.0.0.1:8443                (HOST:PORT of the SOAP endpoint the Fachverfahren polls)
#pragma once

#include <filesystem>
#include <string>

#include "gateway/config/config.h"

namespace xoev {

struct XtaSettings final : AdapterSettings {
  std::filesystem::path directory;
  std::string listen = "127.0.0.1:8443";
};

}  // namespace xoev
