// Delivers into a directory the Fachverfahren watches: <directory>/<messageId>.xml
// (or the configured file_name pattern), written atomically — temporary name,
// fsync, rename, fsync of the directory — so the system never sees half a file and
// a message already there is never written twice.
#pragma once

#include <filesystem>

#include "adapters/outbound/outbound_adapter.h"
#include "adapters/outbound/file/file_settings.h"

namespace xoev {

OutboundAdapterPtr make_file_adapter(const FileSettings& settings);

// The file name for a message: pattern with {messageId} (and {destination},
// {messageType}) replaced; unsafe characters in values become '_'.
std::string file_name_for(const std::string& pattern, const DeliveredMessage& m);

}  // namespace xoev
