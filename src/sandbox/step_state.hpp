// Private to sandbox/: what one running step keeps in its Store's data slot, for the host
// functions we define beside WASI (fd_write capture, poll_oneoff, proc_exit) and for the epoch
// callback that enforces the deadline and the stop signal.
#pragma once

#include <chrono>
#include <optional>
#include <wasmtime.hh>

#include "sandbox/http_session.hpp"
#include "sandbox/output_capture.hpp"
#include "sandbox/stop_signal.hpp"

namespace wwp::sandbox {

struct StepState {
  CapturedOutput output;
  std::chrono::steady_clock::time_point deadline;
  // When the WASI context was created: the origin of the module's monotonic clock.
  std::chrono::steady_clock::time_point wasi_epoch;
  const StopSignal* stop = nullptr;
  std::chrono::steady_clock::time_point give_up_at = std::chrono::steady_clock::time_point::max();
  // Why the host ended the module, when it did (checked after the call returns).
  enum class HostEnd { None, Deadline, Stop, GiveUp } host_end = HostEnd::None;
  HttpSession http;
  // Set by our proc_exit: WASI's own refuses statuses >= 126 with an error that reads like a trap.
  std::optional<int> exit_status;
  // Set by the store's memory limiter when it refuses a growth (the module only sees -1).
  bool memory_refused = false;

  // Records and returns true when the step must end now (deadline or give-up time passed, or stop
  // requested).
  bool must_end(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
    if (stop != nullptr && stop->requested()) {
      host_end = HostEnd::Stop;
      return true;
    }
    if (now >= deadline) {
      host_end = HostEnd::Deadline;
      return true;
    }
    if (now >= give_up_at) {
      host_end = HostEnd::GiveUp;
      return true;
    }
    return false;
  }
};

inline StepState& step_state(wasmtime::Caller& caller) {
  return *std::any_cast<StepState*>(wasmtime::Store::Context(caller).get_data());
}

}  // namespace wwp::sandbox
