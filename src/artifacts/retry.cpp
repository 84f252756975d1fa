#include "artifacts/retry.hpp"

#include <algorithm>
#include <random>
#include <thread>

namespace wwp::artifacts {

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry_number) {
  double delay = static_cast<double>(policy.initial_backoff.count());
  for (int i = 1; i < retry_number; ++i) delay *= policy.multiplier;
  delay = std::min(delay, static_cast<double>(policy.max_backoff.count()));
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.75, 1.25);
  return std::chrono::milliseconds(static_cast<std::int64_t>(delay * jitter(rng)));
}

void sleep_for_retry(const RetryPolicy& policy, int retry_number) {
  std::this_thread::sleep_for(backoff_delay(policy, retry_number));
}

}  // namespace wwp::artifacts
