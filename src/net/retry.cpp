#include "net/retry.hpp"

#include <algorithm>
#include <charconv>
#include <random>

#include "common/text.hpp"

namespace wwp::net {

bool transient_status(long status) {
  if (status == 408 || status == 429) return true;
  if (status < 500 || status > 599) return false;
  switch (status) {
    case 501:
    case 505:
    case 506:
    case 508:
    case 510:
    case 511:
      return false;
    default:
      return true;
  }
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry) {
  double delay = static_cast<double>(policy.initial_backoff.count());
  for (int i = 1; i < retry && delay < static_cast<double>(policy.max_backoff.count()); ++i)
    delay *= policy.multiplier;
  delay = std::min(delay, static_cast<double>(policy.max_backoff.count()));
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(1.0 - policy.jitter, 1.0 + policy.jitter);
  return std::chrono::milliseconds(static_cast<std::int64_t>(delay * jitter(rng)));
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value) {
  value = trim(value);
  long seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return std::nullopt;
  return std::chrono::milliseconds(std::min(seconds, 3600L) * 1000);
}

std::optional<std::chrono::milliseconds> next_delay(
    const RetryPolicy& policy, Deadline deadline, int attempts_made,
    std::optional<std::chrono::milliseconds> retry_after) {
  if (policy.max_attempts > 0 && attempts_made >= policy.max_attempts) return std::nullopt;
  const auto delay = retry_after.value_or(backoff_delay(policy, attempts_made));
  // Waiting past the deadline only to fail then helps nobody.
  if (remaining(deadline) <= delay) return std::nullopt;
  return delay;
}

Error gave_up(const Error& last, int attempts_made) {
  return transient(last.message + " (gave up after " + std::to_string(attempts_made) +
                   (attempts_made == 1 ? " attempt)" : " attempts)"));
}

}  // namespace wwp::net
