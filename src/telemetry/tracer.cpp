#include "telemetry/tracer.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cmath>
#include <mutex>

namespace wwp::telemetry {

namespace {

std::mutex installed_mutex;
std::shared_ptr<Tracer> installed;  // guarded by installed_mutex
// Read on every step: a relaxed flag spares the lock when tracing is off.
std::atomic<bool> any_installed{false};

}  // namespace

Tracer::Tracer(Sampler sampler, double ratio, std::shared_ptr<SpanSink> sink)
    : sampler_(sampler), ratio_(ratio), sink_(std::move(sink)) {}

bool Tracer::sampled(const std::array<std::uint8_t, 16>& trace_id) const {
  switch (sampler_) {
    case Sampler::AlwaysOn:
      return true;
    case Sampler::AlwaysOff:
      return false;
    case Sampler::TraceIdRatio: {
      if (ratio_ >= 1.0) return true;
      if (ratio_ <= 0.0) return false;
      std::uint64_t value = 0;
      for (std::size_t i = 8; i < 16; ++i) value = (value << 8) | trace_id[i];
      return static_cast<double>(value) < std::ldexp(ratio_, 64);
    }
  }
  return false;
}

Span Tracer::root(std::string name, SpanKind kind) const {
  auto trace_id = new_trace_id();
  if (!sampled(trace_id)) return {};
  auto data = std::make_unique<SpanData>();
  data->trace_id = trace_id;
  data->span_id = new_span_id();
  data->name = std::move(name);
  data->kind = kind;
  data->start_unix_nanos = unix_nanos_now();
  return Span(std::move(data), sink_);
}

void install_tracer(std::shared_ptr<Tracer> tracer) {
  std::lock_guard lock(installed_mutex);
  any_installed = tracer != nullptr;
  installed = std::move(tracer);
}

bool tracing_enabled() { return any_installed.load(std::memory_order_relaxed); }

Span start_root(std::string name, SpanKind kind) {
  if (!any_installed.load(std::memory_order_relaxed)) return {};
  std::shared_ptr<Tracer> tracer;
  {
    std::lock_guard lock(installed_mutex);
    tracer = installed;
  }
  if (!tracer) return {};
  return tracer->root(std::move(name), kind);
}

Result<std::shared_ptr<OtlpExporter>> setup_tracing_from_env(const std::string& default_service) {
  WWP_TRY_ASSIGN(auto config, tracing_config_from_env(process_environment(), default_service));
  if (!config) {
    install_tracer(nullptr);
    return std::shared_ptr<OtlpExporter>();
  }
  spdlog::info("sending traces to {} as service {}", config->endpoint, config->resource[0].second);
  auto exporter = std::make_shared<OtlpExporter>(*config);
  install_tracer(std::make_shared<Tracer>(config->sampler, config->ratio, exporter));
  return exporter;
}

}  // namespace wwp::telemetry
