#include "telemetry/plugin_metrics.hpp"

#include <dirent.h>
#include <unistd.h>

#include <fstream>

namespace wwp::telemetry {

namespace {

// Durations from a millisecond (a cached module's step) to about half an hour.
std::vector<double> duration_buckets() { return exponential_buckets(0.001, 4.0, 11); }

}  // namespace

PluginMetrics::PluginMetrics(Registry& r)
    : registry(r),
      steps(r.counter("wwp_steps_total", "Steps ended, by phase and module.", {"phase", "module"})),
      step_duration(r.histogram("wwp_step_duration_seconds",
                                "Time from a worker starting a step to its result, by phase.",
                                duration_buckets(), {"phase"})),
      step_queue_wait(r.histogram("wwp_step_queue_wait_seconds",
                                  "Time a step waited in the queue for a worker.",
                                  duration_buckets())),
      queue_depth(r.gauge("wwp_queue_depth", "Steps waiting for a worker.")),
      steps_running(r.gauge("wwp_steps_running", "Steps running now.")),
      unavailable(r.counter("wwp_unavailable_responses_total",
                            "503 answers (the agent retries), by reason.", {"reason"})),
      requeues(
          r.counter("wwp_requeues_total", "Running answers asking the agent to call again later.")),
      compile_duration(r.histogram("wwp_module_compile_duration_seconds",
                                   "Module compilations, by tier (baseline: Winch, optimized: "
                                   "Cranelift).",
                                   duration_buckets(), {"tier"})),
      cache_lookups(r.counter("wwp_module_cache_lookups_total",
                              "Module lookups by cache (memory: compiled LRU, disk: precompiled "
                              "files, registry: OCI blob cache) and result.",
                              {"cache", "result"})),
      pull_bytes(r.counter("wwp_oci_pull_bytes_total", "Bytes of OCI blobs downloaded.")),
      pull_duration(r.histogram("wwp_oci_pull_duration_seconds",
                                "OCI module fetches that downloaded blobs.", duration_buckets())),
      artifact_bytes(r.counter("wwp_artifact_bytes_total",
                               "Artifact bytes moved, by direction (in: downloaded, out: "
                               "uploaded).",
                               {"direction"})),
      artifact_duration(r.histogram("wwp_artifact_transfer_duration_seconds",
                                    "Artifact transfers, by direction.", duration_buckets(),
                                    {"direction"})),
      limit_hits(r.counter("wwp_limit_hits_total",
                           "Steps stopped by a limit, by kind (timeout, memory, disk, output).",
                           {"kind"})),
      step_cpu(r.counter("wwp_step_cpu_seconds_total", "CPU time of module runs, by module.",
                         {"module"})),
      step_memory_peak(r.histogram("wwp_step_memory_peak_bytes",
                                   "Linear memory of a module when its run ended.",
                                   exponential_buckets(65536, 4.0, 10))),
      spans_exported(
          r.counter("wwp_trace_spans_exported_total", "Spans accepted by the trace collector.")),
      spans_dropped(r.counter("wwp_trace_spans_dropped_total",
                              "Spans not exported, by reason (queue_full, export_failed, "
                              "shutdown).",
                              {"reason"})),
      resident_memory(
          r.gauge("process_resident_memory_bytes", "Resident memory size of the process.")),
      open_fds(r.gauge("process_open_fds", "Open file descriptors of the process.")) {
  r.on_collect([this] {
    resident_memory.get().set(process_resident_bytes());
    open_fds.get().set(process_open_fds());
  });
}

PluginMetrics& plugin_metrics() {
  static Registry registry;
  static PluginMetrics metrics(registry);
  return metrics;
}

double process_resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0;
  std::uint64_t resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double process_open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the directory stream's own descriptor
}

}  // namespace wwp::telemetry
