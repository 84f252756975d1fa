// Absolute deadlines on the monotonic clock. A step has one deadline that spans all its phases
// (module pull, artifact transfers, the run); every network call takes it as a time point, not as
// a fresh timeout, so retries and redirects cannot stretch the step.
#pragma once

#include <algorithm>
#include <chrono>

namespace wwp {

using Deadline = std::chrono::steady_clock::time_point;

// No deadline: waits are bounded by attempts and stall limits only.
inline constexpr Deadline kNoDeadline = Deadline::max();

inline Deadline deadline_in(std::chrono::milliseconds budget) {
  return std::chrono::steady_clock::now() + budget;
}

// Time left, never negative; kNoDeadline gives a very large value.
inline std::chrono::milliseconds remaining(Deadline deadline) {
  if (deadline == kNoDeadline) return std::chrono::milliseconds::max();
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

// An attempt at a step that must be over by `by` or leave no trace: when it cannot finish in
// time, the executor stops it, discards what it did (only its own sandbox saw it), reports nothing
// (no result, metric or log line) and sets `gave_up`; the step is then run again the usual way.
// The server uses this to run quick steps on its event thread (server/plugin_server.cpp).
struct BoundedAttempt {
  Deadline by;
  bool gave_up = false;
};

}  // namespace wwp
