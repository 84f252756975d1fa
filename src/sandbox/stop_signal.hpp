// Lets code outside the sandbox end a running step early: a per-step watchdog (disk use), or the
// plugin's shutdown once its grace period is over. The module is interrupted at the next epoch
// tick (a few milliseconds), also while it waits inside a host call that honours the signal.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <string>

namespace wwp::sandbox {

struct StopReason {
  std::string message;
  // True when the step did nothing wrong (the plugin is shutting down): the agent should retry.
  bool transient = false;
};

class StopSignal {
 public:
  // Thread-safe; the first reason given wins.
  void request(StopReason reason) {
    std::lock_guard lock(mutex_);
    if (reason_) return;
    reason_ = std::move(reason);
    requested_.store(true, std::memory_order_release);
  }
  bool requested() const { return requested_.load(std::memory_order_acquire); }
  std::optional<StopReason> reason() const {
    std::lock_guard lock(mutex_);
    return reason_;
  }

 private:
  mutable std::mutex mutex_;
  std::optional<StopReason> reason_;
  std::atomic<bool> requested_{false};
};

}  // namespace wwp::sandbox
