// xoevgate_build_info{version, ...} 1: which build answers, for dashboards and alerts.
#pragma once

#include "gateway/metrics/exposition.h"

namespace xoev::metrics {

void write_build_info(Exposition& out);

}  // namespace xoev::metrics
