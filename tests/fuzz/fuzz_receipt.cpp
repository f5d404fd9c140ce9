// Hostile records on xoev.receipts: parsed or refused; a parsed receipt survives its
// own serialization unchanged (what one instance writes, another reads the same).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/status/receipt.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto receipt = xoev::Receipt::from_json(json);
  if (!receipt) return 0;
  const std::string written = receipt->to_json();
  auto again = xoev::Receipt::from_json(written);
  if (!again) std::abort();
  if (again->to_json() != written) std::abort();
  return 0;
}
