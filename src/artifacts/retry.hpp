// Retry with exponential backoff for calls to the artifact repository and HTTP sources. Only
// failures a later attempt can cure are retried; when the attempts run out the error becomes
// ErrorKind::Transient so the agent requeues the step instead of failing it.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "common/result.hpp"

namespace wwp::artifacts {

struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  double multiplier = 2.0;
  // No attempt starts after this (the step's deadline): the caller reports the timeout.
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

// What one attempt produced: success, a final error, or an error worth another attempt.
template <class T>
struct Attempt {
  Result<T> result;
  bool retryable = false;

  static Attempt done(Result<T> r) { return Attempt{std::move(r), false}; }
  static Attempt again(Error e) { return Attempt{std::move(e), true}; }
};

// Delay before attempt `n` (n >= 1 is the first retry), with +-25% jitter so that many steps
// hitting the same overloaded repository do not retry in lockstep.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry_number);
void sleep_for_retry(const RetryPolicy& policy, int retry_number);

template <class T>
Result<T> with_retries(const RetryPolicy& policy, const std::function<Attempt<T>()>& attempt) {
  const int attempts = policy.max_attempts < 1 ? 1 : policy.max_attempts;
  for (int n = 0;; ++n) {
    if (n > 0) sleep_for_retry(policy, n);
    Attempt<T> a = attempt();
    if (a.result || !a.retryable) return std::move(a.result);
    if (policy.deadline && std::chrono::steady_clock::now() >= *policy.deadline)
      return std::move(a.result);
    if (n + 1 >= attempts) {
      return transient(a.result.error().message + " (gave up after " + std::to_string(attempts) +
                       (attempts == 1 ? " attempt)" : " attempts)"));
    }
  }
}

}  // namespace wwp::artifacts
