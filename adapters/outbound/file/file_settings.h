// The file adapter's own configuration:
//   type: file
//   directory: ../var/inbox/standesamt        (required; the Fachverfahren's inbox)
//   file_name: "{messageId}.xml"              (pattern; {destination}, {messageType} too)
#pragma once

#include <filesystem>
#include <string>

#include "gateway/config/config.h"

namespace xoev {

struct FileSettings final : AdapterSettings {
  std::filesystem::path directory;
  std::string file_name = "{messageId}.xml";
};

// Longest file name the pattern may produce with the longest checked values (ids of
// 128 characters, message types of 128): file systems allow 255 bytes, and the
// hidden temporary name adds about 30.
inline constexpr size_t kMaxFileNameBytes = 255 - 32;

}  // namespace xoev
