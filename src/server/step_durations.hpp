// How long each module's last step took, so the server can tell a step that will end in
// microseconds (run it on the HTTP event thread: no hand-off) from one that may run long (hand it
// to a worker, so the call can answer Running at the requeue deadline).
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace wwp::server {

class StepDurations {
 public:
  using Duration = std::chrono::steady_clock::duration;

  explicit StepDurations(std::size_t max_modules = 4096) : max_modules_(max_modules) {}

  void record(const std::string& module, Duration took);
  // The last step's duration of `module`; nullopt for a module not seen yet.
  std::optional<Duration> last(const std::string& module) const;

 private:
  std::size_t max_modules_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Duration> last_;
};

}  // namespace wwp::server
