#include "gateway/core/allocator_tuning.h"

#include <malloc.h>

#include <atomic>
#include <string_view>

namespace xoev {
namespace {
std::atomic<AllocatorTuning> g_tuning{AllocatorTuning::glibc_defaults};
}  // namespace

AllocatorTuning tune_allocator(const char* glibc_tunables) {
  AllocatorTuning t;
  if (glibc_tunables != nullptr && std::string_view(glibc_tunables).find("glibc.malloc.") != std::string_view::npos) {
    t = AllocatorTuning::left_to_environment;
  } else if (::mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMallocMmapThreshold)) == 1 &&
             ::mallopt(M_TRIM_THRESHOLD, static_cast<int>(kMallocTrimThreshold)) == 1) {
    t = AllocatorTuning::tuned;
  } else {
    t = AllocatorTuning::not_available;  // not glibc's malloc (a sanitizer's, for one)
  }
  g_tuning = t;
  return t;
}

AllocatorTuning allocator_tuning() { return g_tuning; }

std::string describe(AllocatorTuning t) {
  switch (t) {
    case AllocatorTuning::tuned:
      return "tuned for large messages (mmap threshold " + std::to_string(kMallocMmapThreshold >> 20) +
             " MiB, trim threshold " + std::to_string(kMallocTrimThreshold >> 20) + " MiB)";
    case AllocatorTuning::left_to_environment:
      return "as GLIBC_TUNABLES sets it";
    case AllocatorTuning::not_available:
      return "not glibc's malloc: not tuned";
    case AllocatorTuning::glibc_defaults:
      break;
  }
  return "glibc defaults";
}

}  // namespace xoev
