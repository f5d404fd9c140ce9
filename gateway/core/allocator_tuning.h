// glibc's malloc, tuned for the buffers of large messages.
//
// A large message passes through buffers of a chunk's size (256 KiB of plaintext, about
// 350 KB sealed, several per chunk: ciphertext, base64, the record librdkafka copies).
// Above glibc's default mmap threshold (128 KiB) each one is a fresh mmap whose pages
// fault in zeroed and are unmapped again on free, and a freed heap top above 128 KiB is
// handed back to the kernel. Measured with bench/large.py (105 MB, same hour): the
// gateway's CPU 1.3 → 0.9 s, the deliverer's 1.0 → 0.55 s, peak RSS unchanged.
#pragma once

#include <string>

namespace xoev {

enum class AllocatorTuning { glibc_defaults, tuned, left_to_environment, not_available };

constexpr size_t kMallocMmapThreshold = 4u << 20;   // buffers up to 4 MiB come from the heap
constexpr size_t kMallocTrimThreshold = 32u << 20;  // and up to 32 MiB of free heap is kept

// Call first in main(), before any thread. When GLIBC_TUNABLES (given, may be null)
// sets a glibc.malloc tunable, the operator's choice is left alone.
AllocatorTuning tune_allocator(const char* glibc_tunables);

// What tune_allocator() did in this process (glibc_defaults if it was not called), in
// words for `xoevgate version`.
AllocatorTuning allocator_tuning();
std::string describe(AllocatorTuning t);

}  // namespace xoev
