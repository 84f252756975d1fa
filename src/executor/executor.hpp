// Template -> NodeResult: resolves the module, prepares the sandbox directory, moves artifacts,
// runs the module and maps what happened to Argo outputs.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "artifacts/artifact_service.hpp"
#include "common/deadline.hpp"
#include "common/result.hpp"
#include "executor/http_policy.hpp"
#include "executor/sandbox_dir.hpp"
#include "executor/sandbox_watch.hpp"
#include "model/node_result.hpp"
#include "model/template.hpp"
#include "modules/module_resolver.hpp"
#include "sandbox/engine.hpp"
#include "sandbox/run.hpp"
#include "telemetry/span.hpp"

namespace wwp::executor {

struct ExecutorSettings {
  std::filesystem::path sandbox_parent;         // where step directories are created
  sandbox::RunLimits default_limits;            // for templates that set none
  std::uint64_t max_result_bytes = 1ULL << 20;  // result.json and each output parameter file
  HttpSettings http;                            // what templates may grant (permissions.http)
  sandbox::HttpTransport http_transport;        // empty: outbound HTTP is unavailable
  // The operator's cap on a template's limits.timeout (--max-timeout); longer ones are cut.
  std::chrono::milliseconds max_timeout{std::chrono::hours(24)};
  // All output parameters of a step together (they travel in one reply and in the workflow).
  std::uint64_t max_output_parameters_bytes = 2ULL << 20;
  // args and env together after substitution, and stdin after substitution.
  std::uint64_t max_args_bytes = 1ULL << 20;
  // The step directory: `bytes` unless the template's limits.disk says otherwise (at most
  // max_disk_bytes), at most `files` entries and `open_files` descriptors open on it.
  SandboxLimits sandbox_limits;
  std::uint64_t max_disk_bytes = 10ULL << 30;
  std::chrono::milliseconds disk_check_interval{100};
};

class Executor {
 public:
  Executor(ExecutorSettings settings, const sandbox::Engine& engine,
           modules::ModuleResolver& modules, artifacts::ArtifactService* artifacts);

  // An Error here is about the plugin's environment (Transient: the agent retries with 503);
  // everything about the step itself, including bad configuration, is a Failed NodeResult.
  // With `attempt`, the step runs only if it can end by `attempt->by` without leaving a trace
  // (see BoundedAttempt): its module is a local file compiled in memory, it has no artifacts and
  // no capabilities. Otherwise, or when the run passes that time, `attempt->gave_up` is set and
  // nothing is reported.
  Result<model::NodeResult> execute(const model::Template& tmpl,
                                    const model::WorkflowMeta& workflow,
                                    const std::string& step_key, BoundedAttempt* attempt = nullptr);

  ~Executor();

  // Removes step directories left under the sandbox parent by plugin processes that are gone
  // (a crash, a kill, a node restart) and logs what it did.
  Result<SandboxParent::SweepReport> sweep_leftover_sandboxes();
  // The same in a background thread (joined by the destructor): `serve` calls it at start, so a
  // huge leftover tree does not delay readiness.
  void start_sweep();

 private:
  // What a step used and what stopped it, for its log line, span and metrics.
  struct StepReport {
    std::string module_digest;
    double cpu_seconds = 0;
    std::uint64_t memory_peak_bytes = 0;
    std::string stderr_tail;
    std::string limit;  // the limit that ended the step (timeout, memory, disk, output), if any
    bool ran = false;
  };
  Result<model::NodeResult> run_step(const model::Template& tmpl,
                                     const model::WorkflowMeta& workflow,
                                     const std::string& step_key, StepReport& report,
                                     BoundedAttempt* attempt);
  void record_step(const model::Template& tmpl, const Result<model::NodeResult>& node,
                   const StepReport& report, std::chrono::steady_clock::duration elapsed,
                   telemetry::Span& span);
  Result<SandboxParent*> sandbox_parent();

  ExecutorSettings settings_;
  const sandbox::Engine& engine_;
  modules::ModuleResolver& modules_;
  artifacts::ArtifactService* artifacts_;
  std::mutex parent_mutex_;
  std::unique_ptr<SandboxParent> parent_;  // opened at the first step or sweep
  std::thread sweeper_;
  SandboxWatcher watcher_;  // the directories of running steps, against their disk limits
};

}  // namespace wwp::executor
