#include "server/step_durations.hpp"

namespace wwp::server {

void StepDurations::record(const std::string& module, Duration took) {
  std::lock_guard lock(mutex_);
  // Templates can name any number of modules; forgetting all of them only costs hand-offs.
  if (last_.size() >= max_modules_ && !last_.contains(module)) last_.clear();
  last_[module] = took;
}

std::optional<StepDurations::Duration> StepDurations::last(const std::string& module) const {
  std::lock_guard lock(mutex_);
  auto found = last_.find(module);
  if (found == last_.end()) return std::nullopt;
  return found->second;
}

}  // namespace wwp::server
