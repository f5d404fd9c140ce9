#include "gateway/core/hidden_temporary_name.h"

#include <unistd.h>

#include <random>

namespace xoev {

std::string hidden_temporary_name(std::string_view name) {
  // Seeded once per thread: a std::random_device per file cost a deliverer 5 % of its time.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out(1, '.');  // appended, not `"." + name`: GCC 12 -O3 warns falsely (-Wrestrict)
  out.append(name).append(".").append(std::to_string(::getpid())).append(".").append(std::to_string(rng())).append(".tmp");
  return out;
}

}  // namespace xoev
