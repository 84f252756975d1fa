// The one retry policy for every network call (registries, S3, http artifacts, module URLs, the
// Kubernetes API), and the one rule for which failures are worth another attempt.
//
// Transient (retried, and reported as ErrorKind::Transient when retries run out, so the agent
// requeues the step):
//   - no usable response: connection refused or reset, DNS failure, timeout, a transfer cut short;
//   - HTTP 408 Request Timeout, 429 Too Many Requests;
//   - HTTP 5xx except 501 Not Implemented, 505 HTTP Version Not Supported, 506, 508, 510 and 511,
//     which describe the server's configuration and do not change by asking again.
// Everything else is permanent: other 4xx, TLS failures (certificates are configuration), a
// redirect to a scheme other than http(s), a response larger than its limit, local I/O errors.
//
// Waits grow exponentially with jitter, honour Retry-After, and never run past the deadline.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "common/deadline.hpp"
#include "common/result.hpp"

namespace wwp::net {

struct RetryPolicy {
  int max_attempts = 5;  // 0: as many as the deadline allows
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  double multiplier = 2.0;
  // +-this fraction, so that many plugin processes retrying the same server do not march in step.
  double jitter = 0.2;
};

// The rule above, for statuses.
bool transient_status(long status);

// Delay before retry number `retry` (1 is the first retry).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry);

// Retry-After in delta-seconds form (capped at an hour); the HTTP-date form is rare and ignored.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value);

// What one attempt produced: a final result, or an error another attempt may cure (optionally
// after the server's Retry-After).
template <class T>
struct Attempt {
  Result<T> result;
  bool retry = false;
  std::optional<std::chrono::milliseconds> retry_after;

  static Attempt done(Result<T> r) { return Attempt{std::move(r), false, std::nullopt}; }
  static Attempt again(Error e, std::optional<std::chrono::milliseconds> after = std::nullopt) {
    return Attempt{std::move(e), true, after};
  }
  // `again` when the failure is transient, else `done`.
  static Attempt fail(Error e, bool transient,
                      std::optional<std::chrono::milliseconds> after = std::nullopt) {
    return Attempt{std::move(e), transient, after};
  }
};

// How long to wait before the next attempt, or nullopt when the attempts or the time are spent.
std::optional<std::chrono::milliseconds> next_delay(
    const RetryPolicy& policy, Deadline deadline, int attempts_made,
    std::optional<std::chrono::milliseconds> retry_after);

// The error reported when retries run out: Transient, with the attempt count.
Error gave_up(const Error& last, int attempts_made);

// Calls `attempt()` (which returns Attempt<T>) until it is done or retries run out.
template <class T, class F>
Result<T> with_retries(const RetryPolicy& policy, Deadline deadline, F&& attempt) {
  for (int made = 1;; ++made) {
    Attempt<T> outcome = attempt();
    if (outcome.result || !outcome.retry) return std::move(outcome.result);
    const auto delay = next_delay(policy, deadline, made, outcome.retry_after);
    if (!delay) return gave_up(outcome.result.error(), made);
    std::this_thread::sleep_for(*delay);
  }
}

}  // namespace wwp::net
