#include "artifacts/artifact_service.hpp"

#include "common/units.hpp"

namespace wwp::artifacts {

bool StepContext::past_deadline() const {
  return std::chrono::steady_clock::now() >= deadline;
}

Result<Ok> StepContext::check_deadline(std::string_view doing) const {
  if (!past_deadline()) return Ok{};
  return failed("timeout " + format_duration(timeout) + " exceeded while " + std::string(doing));
}

Error StepContext::at_deadline(Error error, std::string_view doing) const {
  if (!past_deadline()) return error;
  return check_deadline(doing).error();
}

}  // namespace wwp::artifacts
