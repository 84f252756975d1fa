// Go-style durations ("30s", "1m30s", "250ms") and Kubernetes quantities ("128Mi", "1G"), the
// notations Argo users already write in templates.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace wwp {

// Accepts Go duration syntax and a bare number of seconds.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);
// Renders the way Go's time.Duration.String() would for whole units ("5s", "1m30s", "250ms").
std::string format_duration(std::chrono::milliseconds duration);

// Accepts binary (Ki, Mi, Gi, Ti) and decimal (k, M, G, T) suffixes and plain byte counts.
Result<std::uint64_t> parse_quantity(std::string_view text);
// "128Mi" for exact binary multiples, else a byte count.
std::string format_quantity(std::uint64_t bytes);

}  // namespace wwp
