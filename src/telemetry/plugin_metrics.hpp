// The plugin's metrics, one process-wide set (what GET /metrics exposes). Every part of the plugin
// records into plugin_metrics(); names follow Prometheus conventions (wwp_ prefix, base units,
// _total for counters). docs/operations.md lists them.
#pragma once

#include <string>

#include "telemetry/metrics.hpp"

namespace wwp::telemetry {

struct PluginMetrics {
  explicit PluginMetrics(Registry& registry);

  Registry& registry;
  // Steps by the phase they ended in (Succeeded, Failed, Error; "Transient" for 503 answers) and
  // by module (the template's module reference).
  Family<Counter>& steps;
  Family<Histogram>& step_duration;    // {phase}: resolve to reply
  Family<Histogram>& step_queue_wait;  // from submission to a worker starting the step
  Family<Gauge>& queue_depth;          // steps waiting for a worker
  Family<Gauge>& steps_running;
  Family<Counter>& unavailable;          // {reason}: 503 answers
  Family<Counter>& requeues;             // Running + requeue answers
  Family<Histogram>& compile_duration;   // {tier}: baseline (Winch) or optimized (Cranelift)
  Family<Counter>& cache_lookups;        // {cache=memory|disk|registry, result=hit|miss}
  Family<Counter>& pull_bytes;           // OCI blobs downloaded
  Family<Histogram>& pull_duration;      // OCI fetches that downloaded something
  Family<Counter>& artifact_bytes;       // {direction=in|out}
  Family<Histogram>& artifact_duration;  // {direction}
  Family<Counter>& limit_hits;           // {kind}
  Family<Counter>& step_cpu;             // {module}: CPU time of modules' runs
  Family<Histogram>& step_memory_peak;   // linear memory at the end of a run
  Family<Counter>& spans_exported;
  Family<Counter>& spans_dropped;  // {reason=queue_full|export_failed|shutdown}
  Family<Gauge>& resident_memory;
  Family<Gauge>& open_fds;
};

// The process's metrics (and registry), created on first use.
PluginMetrics& plugin_metrics();

// Resident set size and open file descriptors of this process, from /proc/self (0 if unreadable).
double process_resident_bytes();
double process_open_fds();

}  // namespace wwp::telemetry
