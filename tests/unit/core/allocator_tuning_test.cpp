#include "gateway/core/allocator_tuning.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>

namespace xoev {
namespace {

TEST(AllocatorTuning, UntouchedUntilTunedAndSaysSo) {
  EXPECT_EQ(allocator_tuning(), AllocatorTuning::glibc_defaults);  // ctest runs each test in its own process
  EXPECT_EQ(describe(allocator_tuning()), "glibc defaults");
}

TEST(AllocatorTuning, AMallocTunableFromTheOperatorWins) {
  EXPECT_EQ(tune_allocator("glibc.malloc.trim_threshold=131072"), AllocatorTuning::left_to_environment);
  EXPECT_EQ(allocator_tuning(), AllocatorTuning::left_to_environment);
  EXPECT_EQ(tune_allocator("glibc.rtld.optional_static_tls=512:glibc.malloc.arena_max=2"),
            AllocatorTuning::left_to_environment);
  EXPECT_EQ(describe(AllocatorTuning::left_to_environment), "as GLIBC_TUNABLES sets it");
}

// A buffer of a sealed chunk's size comes from the heap once tuned (glibc's default would
// mmap it afresh). Under a sanitizer malloc is not glibc's: then the tuning says it did
// nothing rather than claim it.
TEST(AllocatorTuning, ABufferOfAChunksSizeComesFromTheHeapOnceTuned) {
  const AllocatorTuning t = tune_allocator("glibc.rtld.optional_static_tls=512");  // no malloc tunable
#if defined(__SANITIZE_ADDRESS__)
  EXPECT_EQ(t, AllocatorTuning::not_available);
  EXPECT_EQ(describe(t), "not glibc's malloc: not tuned");
#else
  ASSERT_EQ(t, AllocatorTuning::tuned);
  EXPECT_EQ(describe(t), "tuned for large messages (mmap threshold 4 MiB, trim threshold 32 MiB)");
  const auto mapped_before = mallinfo2().hblks;
  void* p = std::malloc(1u << 20);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(mallinfo2().hblks, mapped_before) << "1 MiB was mmapped";
  std::free(p);
#endif
}

}  // namespace
}  // namespace xoev
