#include "oci/retry.hpp"

#include <charconv>
#include <random>

namespace wwp::oci {

std::chrono::milliseconds backoff_delay(int attempt) {
  const long base = std::min(2000L, 100L << std::min(attempt, 5));
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return std::chrono::milliseconds(static_cast<long>(static_cast<double>(base) * jitter(rng)));
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  long seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return std::nullopt;
  return std::chrono::milliseconds(std::min(seconds, 3600L) * 1000);
}

}  // namespace wwp::oci
