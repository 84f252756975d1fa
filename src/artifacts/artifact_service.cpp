#include "artifacts/artifact_service.hpp"

#include "common/units.hpp"

namespace wwp::artifacts {

bool StepContext::past_deadline() const { return std::chrono::steady_clock::now() >= deadline; }

Result<Ok> StepContext::check_deadline(std::string_view doing) const {
  if (!past_deadline()) return Ok{};
  return failed("timeout " + format_duration(timeout) + " exceeded while " + std::string(doing));
}

Error StepContext::at_deadline(Error error, std::string_view doing) const {
  // A transfer cut by a timeout derived from the deadline ends a hair before it (libcurl rounds
  // to milliseconds): an error that close to the deadline is the deadline's doing.
  constexpr auto kMargin = std::chrono::milliseconds(100);
  if (deadline == kNoDeadline || std::chrono::steady_clock::now() + kMargin < deadline)
    return error;
  return failed("timeout " + format_duration(timeout) + " exceeded while " + std::string(doing));
}

}  // namespace wwp::artifacts
