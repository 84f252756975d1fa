#include "common/units.hpp"

#include <charconv>
#include <cmath>
#include <utility>

namespace wwp {

namespace {
// Parses a leading decimal number (digits with an optional fraction); advances `text`.
bool take_number(std::string_view& text, double& out) {
  std::size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return false;
  std::string digits(text.substr(0, i));
  char* end = nullptr;
  out = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size()) return false;
  text.remove_prefix(i);
  return true;
}
}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const std::string original(text);
  auto bad = [&] {
    return invalid("invalid duration \"" + original +
                   "\" (use Go syntax such as 30s, 5m, 1h30m, 500ms)");
  };
  // Deadlines are computed in nanoseconds of std::chrono::steady_clock; longer ones would wrap.
  constexpr double kMaxMs = 9.2e12;  // about 292 years: int64 nanoseconds
  auto to_milliseconds = [&](double ms) -> Result<std::chrono::milliseconds> {
    if (!(ms <= kMaxMs)) {
      return invalid("duration \"" + original + "\" is too large (at most " +
                     format_duration(std::chrono::milliseconds(static_cast<std::int64_t>(kMaxMs) /
                                                               3600000 * 3600000)) +
                     ")");
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(ms)));
  };
  if (text.empty()) return bad();
  double seconds_only = 0;
  {
    std::string_view probe = text;
    if (take_number(probe, seconds_only) && probe.empty())
      return to_milliseconds(seconds_only * 1000);
  }
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"ms", 1.0},   {"us", 1e-3}, {"µs", 1e-3}, {"ns", 1e-6},
      {"h", 3600e3}, {"m", 60e3},  {"s", 1e3}};
  double total_ms = 0;
  while (!text.empty()) {
    double value = 0;
    if (!take_number(text, value)) return bad();
    bool matched = false;
    for (const auto& [suffix, scale] : kUnits) {
      if (text.starts_with(suffix)) {
        total_ms += value * scale;
        text.remove_prefix(suffix.size());
        matched = true;
        break;
      }
    }
    if (!matched) return bad();
  }
  return to_milliseconds(total_ms);
}

std::string format_duration(std::chrono::milliseconds duration) {
  auto ms = duration.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms % 1000 != 0 && ms < 1000) return std::to_string(ms) + "ms";
  auto total_s = ms / 1000;
  auto h = total_s / 3600;
  auto m = (total_s % 3600) / 60;
  auto s = total_s % 60;
  if (h) out += std::to_string(h) + "h";
  if (h || m) out += std::to_string(m) + "m";
  out += std::to_string(s);
  if (ms % 1000) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(ms % 1000));
    out += frac;
  }
  return out + "s";
}

Result<std::uint64_t> parse_quantity(std::string_view text) {
  const std::string original(text);
  auto bad = [&] {
    return invalid("invalid quantity \"" + original +
                   "\" (use Kubernetes syntax such as 128Mi, 1Gi, 500M)");
  };
  double value = 0;
  if (!take_number(text, value)) return bad();
  static constexpr std::pair<std::string_view, double> kSuffixes[] = {
      {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
      {"k", 1e3},     {"K", 1e3},        {"M", 1e6},           {"G", 1e9},
      {"T", 1e12},    {"", 1.0}};
  for (const auto& [suffix, scale] : kSuffixes) {
    if (text == suffix) {
      double bytes = value * scale;
      // The largest double below 2^64, so the conversion below cannot overflow.
      if (!(bytes <= 1.8e19)) {
        return invalid("quantity \"" + original + "\" is too large (at most 2^64 bytes)");
      }
      return static_cast<std::uint64_t>(std::round(bytes));  // llround stops at 2^63
    }
  }
  return bad();
}

std::string format_quantity(std::uint64_t bytes) {
  static constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {
      {"Ti", 1ULL << 40}, {"Gi", 1ULL << 30}, {"Mi", 1ULL << 20}, {"Ki", 1ULL << 10}};
  for (const auto& [suffix, scale] : kUnits) {
    if (bytes >= scale && bytes % scale == 0)
      return std::to_string(bytes / scale) + std::string(suffix);
  }
  return std::to_string(bytes);
}

}  // namespace wwp
