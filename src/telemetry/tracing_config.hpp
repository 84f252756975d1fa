// Tracing configuration from the standard OpenTelemetry environment variables
// (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/):
//
//   OTEL_SDK_DISABLED=true                 no tracing
//   OTEL_TRACES_EXPORTER=otlp|none         (tracing is on when an endpoint is set or this is otlp)
//   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT     full URL of the traces endpoint, used as it is
//   OTEL_EXPORTER_OTLP_ENDPOINT            base URL; "/v1/traces" is appended
//   OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL   http/json (http/protobuf is accepted and sent as JSON,
//                                          which OTLP/HTTP receivers also take; grpc is refused)
//   OTEL_EXPORTER_OTLP_[TRACES_]HEADERS    k=v,k2=v2 (values URL-encoded)
//   OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT    export timeout, milliseconds
//   OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
//   OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG
//   OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace wwp::telemetry {

enum class Sampler { AlwaysOn, AlwaysOff, TraceIdRatio };

struct TracingConfig {
  std::string endpoint;              // the traces URL, e.g. http://collector:4318/v1/traces
  std::vector<std::string> headers;  // "Name: value"
  std::vector<std::pair<std::string, std::string>> resource;  // service.name first
  Sampler sampler = Sampler::AlwaysOn;
  double ratio = 1.0;
  // Short by default: an export is best effort and a slow collector only delays the exporter's
  // own thread, never a step.
  std::chrono::milliseconds timeout{3000};
  std::chrono::milliseconds schedule_delay{1000};
  std::size_t max_queue = 2048;
  std::size_t max_batch = 512;
  // How long shutdown waits to send what is still queued.
  std::chrono::milliseconds shutdown_flush{2000};
};

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_environment();

// std::nullopt: tracing is off. An Error names the variable that is wrong.
Result<std::optional<TracingConfig>> tracing_config_from_env(const EnvLookup& env,
                                                             const std::string& default_service);

}  // namespace wwp::telemetry
