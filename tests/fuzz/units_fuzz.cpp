// Go durations and Kubernetes quantities as template authors write them (timeouts, memory and
// disk limits). What parses must render and parse back to the same value.
#include <string>

#include "common/units.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = wwp::fuzz::as_text(data, size);
  if (auto duration = wwp::parse_duration(text)) {
    WWP_FUZZ_CHECK(duration->count() >= 0, "a negative duration");
    auto again = wwp::parse_duration(wwp::format_duration(*duration));
    WWP_FUZZ_CHECK(again && *again == *duration, "format_duration does not parse back");
  }
  if (auto quantity = wwp::parse_quantity(text)) {
    auto again = wwp::parse_quantity(wwp::format_quantity(*quantity));
    WWP_FUZZ_CHECK(again && *again == *quantity, "format_quantity does not parse back");
  }
  return 0;
}
