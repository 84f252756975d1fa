// Time budgets and backoff for registry calls: a registry that is down or overloaded is retried
// with growing pauses until the budget is spent, then reported as Transient.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>

namespace wwp::oci {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  static Deadline in(std::chrono::milliseconds budget) { return Deadline(Clock::now() + budget); }

  std::chrono::milliseconds remaining() const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end_ - Clock::now());
    return std::max(left, std::chrono::milliseconds(0));
  }
  bool expired() const { return Clock::now() >= end_; }
  Clock::time_point end() const { return end_; }

 private:
  explicit Deadline(Clock::time_point end) : end_(end) {}
  Clock::time_point end_;
};

// 100 ms, 200 ms, 400 ms ... capped at 2 s, with +-20% jitter so that many plugin processes
// retrying the same registry do not march in step.
std::chrono::milliseconds backoff_delay(int attempt);

// Retry-After in delta-seconds form (the HTTP-date form is rare for registries and ignored).
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value);

}  // namespace wwp::oci
