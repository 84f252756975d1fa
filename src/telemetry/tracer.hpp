// The process's tracer: starts root spans (one per step) under the configured sampler and hands
// ended spans to the OTLP exporter. Without install() nothing is traced and root() returns no-op
// spans.
#pragma once

#include <memory>
#include <string>

#include "telemetry/otlp_exporter.hpp"
#include "telemetry/span.hpp"
#include "telemetry/tracing_config.hpp"

namespace wwp::telemetry {

class Tracer {
 public:
  Tracer(Sampler sampler, double ratio, std::shared_ptr<SpanSink> sink);
  // A new trace's root span, or a no-op span when the sampler says no.
  Span root(std::string name, SpanKind kind = SpanKind::Server) const;
  // Whether the sampler keeps a trace with this id (TraceIdRatio: its last 8 bytes, as a number,
  // below ratio * 2^64, as the specification's reference samplers do).
  bool sampled(const std::array<std::uint8_t, 16>& trace_id) const;

 private:
  Sampler sampler_;
  double ratio_;
  std::shared_ptr<SpanSink> sink_;
};

// Installs tracing for the process (replacing earlier tracing); `nullptr` turns it off.
void install_tracer(std::shared_ptr<Tracer> tracer);
// Whether a tracer is installed (one relaxed load): lets callers skip building span names.
bool tracing_enabled();
// A root span from the installed tracer (a no-op span without one).
Span start_root(std::string name, SpanKind kind = SpanKind::Server);

// What `serve` and `run` call: reads OTEL_* and, if traces are asked for, starts the exporter and
// installs a tracer. The returned exporter flushes on shutdown(); null when tracing is off.
Result<std::shared_ptr<OtlpExporter>> setup_tracing_from_env(const std::string& default_service);

}  // namespace wwp::telemetry
