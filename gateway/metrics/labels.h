// Label pairs of one sample, in the order they are written.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace xoev::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

}  // namespace xoev::metrics
