#include "telemetry/tracing_config.hpp"

#include <cctype>
#include <cstdlib>

#include "common/text.hpp"

namespace wwp::telemetry {

namespace {

std::optional<std::string> first_of(const EnvLookup& env, const std::string& specific,
                                    const std::string& general) {
  if (auto value = env(specific); value && !trim(*value).empty()) return std::string(trim(*value));
  if (auto value = env(general); value && !trim(*value).empty()) return std::string(trim(*value));
  return std::nullopt;
}

Result<long long> parse_count(const std::string& name, const std::string& text) {
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < 0) return invalid(name + ": not a number: " + text);
  return value;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const std::string hex(text.substr(i + 1, 2));
      if (std::isxdigit(static_cast<unsigned char>(hex[0])) &&
          std::isxdigit(static_cast<unsigned char>(hex[1]))) {
        const long value = std::strtol(hex.c_str(), nullptr, 16);
        out += static_cast<char>(value);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

// "k=v,k2=v2" with URL-encoded parts (the W3C baggage format the spec uses for both lists).
Result<std::vector<std::pair<std::string, std::string>>> parse_pairs(const std::string& name,
                                                                     const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view entry = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (entry.empty()) continue;
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos || trim(entry.substr(0, eq)).empty())
      return invalid(name + ": expected key=value, got \"" + std::string(entry) + "\"");
    std::string key = percent_decode(trim(entry.substr(0, eq)));
    std::string value = percent_decode(trim(entry.substr(eq + 1)));
    if (key.find_first_of("\r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos)
      return invalid(name + ": line breaks are not allowed");
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<std::optional<TracingConfig>> tracing_config_from_env(const EnvLookup& env,
                                                             const std::string& default_service) {
  if (auto disabled = env("OTEL_SDK_DISABLED"); disabled && to_lower(trim(*disabled)) == "true")
    return std::optional<TracingConfig>{};
  const auto exporter = env("OTEL_TRACES_EXPORTER");
  const std::string exporter_name = exporter ? to_lower(trim(*exporter)) : "";
  if (exporter_name == "none") return std::optional<TracingConfig>{};
  if (!exporter_name.empty() && exporter_name != "otlp")
    return invalid("OTEL_TRACES_EXPORTER: only otlp and none are supported, not " + *exporter);

  TracingConfig config;
  if (auto traces = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); traces && !trim(*traces).empty()) {
    config.endpoint = std::string(trim(*traces));
  } else if (auto base = env("OTEL_EXPORTER_OTLP_ENDPOINT"); base && !trim(*base).empty()) {
    std::string url(trim(*base));
    while (!url.empty() && url.back() == '/') url.pop_back();
    config.endpoint = url + "/v1/traces";
  } else if (exporter_name == "otlp") {
    config.endpoint = "http://localhost:4318/v1/traces";  // the specification's default
  } else {
    return std::optional<TracingConfig>{};  // nothing asked for traces
  }
  if (!config.endpoint.starts_with("http://") && !config.endpoint.starts_with("https://"))
    return invalid("OTEL_EXPORTER_OTLP_ENDPOINT: not an http(s) URL: " + config.endpoint);

  if (auto protocol =
          first_of(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")) {
    if (*protocol != "http/json" && *protocol != "http/protobuf")
      return invalid("OTEL_EXPORTER_OTLP_PROTOCOL: " + *protocol +
                     " is not supported (use http/json)");
  }
  if (auto headers =
          first_of(env, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")) {
    WWP_TRY_ASSIGN(auto pairs, parse_pairs("OTEL_EXPORTER_OTLP_HEADERS", *headers));
    for (auto& [key, value] : pairs) config.headers.push_back(key + ": " + value);
  }
  if (auto timeout =
          first_of(env, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")) {
    WWP_TRY_ASSIGN(auto ms, parse_count("OTEL_EXPORTER_OTLP_TIMEOUT", *timeout));
    config.timeout = std::chrono::milliseconds(std::max(1LL, ms));
  }
  if (auto delay = env("OTEL_BSP_SCHEDULE_DELAY"); delay && !trim(*delay).empty()) {
    WWP_TRY_ASSIGN(auto ms, parse_count("OTEL_BSP_SCHEDULE_DELAY", std::string(trim(*delay))));
    config.schedule_delay = std::chrono::milliseconds(std::max(1LL, ms));
  }
  if (auto size = env("OTEL_BSP_MAX_QUEUE_SIZE"); size && !trim(*size).empty()) {
    WWP_TRY_ASSIGN(auto n, parse_count("OTEL_BSP_MAX_QUEUE_SIZE", std::string(trim(*size))));
    config.max_queue = static_cast<std::size_t>(std::max(1LL, n));
  }
  if (auto size = env("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"); size && !trim(*size).empty()) {
    WWP_TRY_ASSIGN(auto n, parse_count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", std::string(trim(*size))));
    config.max_batch = static_cast<std::size_t>(std::max(1LL, n));
  }

  std::string service = default_service;
  std::vector<std::pair<std::string, std::string>> extra;
  if (auto attributes = env("OTEL_RESOURCE_ATTRIBUTES"); attributes && !trim(*attributes).empty()) {
    WWP_TRY_ASSIGN(extra, parse_pairs("OTEL_RESOURCE_ATTRIBUTES", *attributes));
    for (const auto& [key, value] : extra) {
      if (key == "service.name") service = value;
    }
  }
  if (auto name = env("OTEL_SERVICE_NAME"); name && !trim(*name).empty())
    service = std::string(trim(*name));
  config.resource.emplace_back("service.name", service);
  for (auto& pair : extra) {
    if (pair.first != "service.name") config.resource.push_back(std::move(pair));
  }

  const std::string sampler =
      env("OTEL_TRACES_SAMPLER") ? to_lower(trim(*env("OTEL_TRACES_SAMPLER"))) : "";
  const auto arg = env("OTEL_TRACES_SAMPLER_ARG");
  // Argo's agent sends no trace context, so every step span is a root: parentbased_* samplers
  // behave as the sampler they wrap.
  if (sampler.empty() || sampler == "always_on" || sampler == "parentbased_always_on") {
    config.sampler = Sampler::AlwaysOn;
  } else if (sampler == "always_off" || sampler == "parentbased_always_off") {
    config.sampler = Sampler::AlwaysOff;
  } else if (sampler == "traceidratio" || sampler == "parentbased_traceidratio") {
    config.sampler = Sampler::TraceIdRatio;
    config.ratio = 1.0;
    if (arg && !trim(*arg).empty()) {
      char* end = nullptr;
      const std::string text(trim(*arg));
      const double ratio = std::strtod(text.c_str(), &end);
      if (*end != '\0' || !(ratio >= 0.0 && ratio <= 1.0))
        return invalid("OTEL_TRACES_SAMPLER_ARG: expected a ratio from 0 to 1, got " + text);
      config.ratio = ratio;
    }
  } else {
    return invalid("OTEL_TRACES_SAMPLER: unsupported sampler " + sampler);
  }
  return std::optional<TracingConfig>(std::move(config));
}

}  // namespace wwp::telemetry
