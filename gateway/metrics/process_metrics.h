// The standard process_* families of Prometheus client libraries, read from /proc.
#pragma once

#include "gateway/metrics/exposition.h"

namespace xoev::metrics {

// process_resident_memory_bytes, process_virtual_memory_bytes, process_cpu_seconds_total,
// process_open_fds, process_max_fds, process_start_time_seconds (unix time). A value
// /proc does not give is left out rather than written as 0.
void write_process_metrics(Exposition& out);

}  // namespace xoev::metrics
