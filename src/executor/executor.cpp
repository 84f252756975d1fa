#include "executor/executor.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>

#include "common/units.hpp"
#include "executor/outcome_mapping.hpp"
#include "executor/sandbox_dir.hpp"
#include "model/legacy_abi.hpp"
#include "telemetry/log_format.hpp"
#include "telemetry/plugin_metrics.hpp"
#include "telemetry/tracer.hpp"

namespace wwp::executor {

namespace {

model::NodeResult failed_node(std::string message) {
  model::NodeResult node;
  node.phase = model::Phase::Failed;
  node.message = std::move(message);
  return node;
}

Result<Ok> write_invocation(const SandboxDir& dir, const model::Template& tmpl,
                            const model::WorkflowMeta& workflow) {
  const auto path = dir.root() / model::kWorkDir / model::kInputFile;
  const std::string text = model::make_invocation(tmpl, workflow).dump();
  // POSIX calls so that the reason (a full disk, most likely) reaches the message.
  FILE* out = std::fopen(path.c_str(), "wbe");
  bool written = out != nullptr && std::fwrite(text.data(), 1, text.size(), out) == text.size();
  if (out != nullptr) written = std::fclose(out) == 0 && written;
  if (!written) {
    // The node's trouble, not the step's: the agent retries later.
    return transient("cannot write " + path.string() + ": " + std::strerror(errno));
  }
  return Ok{};
}

bool needs_directory(const model::Template& tmpl, const sandbox::CompiledModule& module) {
  if (module.uses_filesystem() || !tmpl.input_artifacts.empty() || !tmpl.output_artifacts.empty())
    return true;
  for (const auto& p : tmpl.output_parameters) {
    if (p.value_from_path) return true;
  }
  return false;
}

// Output parameters declared with valueFrom.path, read from the sandbox; result.json's values
// (already in node.outputs) win for the same name. Each file is read up to `limit` and all values
// together up to `total_limit`, so the reply stays bounded however many parameters read one file.
Result<Ok> collect_output_parameters(model::NodeResult& node, const model::Template& tmpl,
                                     const SandboxDir* dir, std::uint64_t limit,
                                     std::uint64_t total_limit) {
  std::uint64_t total = 0;
  const auto over_total = [&] {
    return limit_exceeded("output parameters together are larger than the limit of " +
                          format_quantity(total_limit));
  };
  for (const auto& p : node.outputs.parameters) total += p.value.size();
  if (total > total_limit) return over_total();
  for (const auto& declared : tmpl.output_parameters) {
    bool reported = false;
    for (const auto& p : node.outputs.parameters) reported = reported || p.name == declared.name;
    if (reported) continue;
    std::optional<std::string> value;
    if (declared.value_from_path && dir != nullptr) {
      const std::uint64_t left = total_limit - total;
      auto content = read_confined(dir->root(), *declared.value_from_path, std::min(limit, left));
      if (content) {
        value = std::move(*content);
      } else if (content.error().kind == ErrorKind::LimitExceeded && left < limit) {
        return over_total();
      } else if (content.error().kind != ErrorKind::NotFound) {
        return failed("output parameter " + declared.name + ": " + content.error().message);
      }
    }
    if (!value) value = declared.value_from_path ? declared.value_from_default : std::nullopt;
    if (!value) value = declared.value ? declared.value : declared.default_value;
    if (!value) {
      return failed("output parameter " + declared.name + ": " +
                    (declared.value_from_path
                         ? *declared.value_from_path + " was not written by the module"
                         : std::string("no value")) +
                    " and no default is set");
    }
    total += value->size();
    if (total > total_limit) return over_total();
    node.outputs.parameters.push_back({declared.name, std::move(*value)});
  }
  return Ok{};
}

// argv, env and stdin with parameters substituted, refusing expansions past `limit` before they
// are allocated (args and env share the limit; stdin has its own).
Result<Ok> build_invocation(sandbox::RunSpec& spec, const model::Template& tmpl,
                            const model::WorkflowMeta& workflow, std::uint64_t limit) {
  const auto too_big = [&](const char* what) {
    return limit_exceeded(std::string(what) + " expand to more than the limit of " +
                          format_quantity(limit) + " (--max-args)");
  };
  std::uint64_t used = 0;
  auto add = [&](std::string_view text) -> std::optional<std::string> {
    auto expanded = model::substitute(text, tmpl, workflow, limit - used);
    if (expanded) used += expanded->size() + 1;  // + the terminating NUL the module sees
    return expanded;
  };
  spec.argv.push_back(tmpl.name.empty() ? "module.wasm" : tmpl.name);
  for (const auto& arg : tmpl.wasm.args) {
    if (used > limit) return too_big("args and env");
    auto expanded = add(arg);
    if (!expanded) return too_big("args and env");
    spec.argv.push_back(std::move(*expanded));
  }
  for (const auto& [key, value] : tmpl.wasm.env) {
    used += key.size() + 1;
    if (used > limit) return too_big("args and env");
    auto expanded = add(value);
    if (!expanded) return too_big("args and env");
    spec.env.emplace_back(key, std::move(*expanded));
  }
  if (used > limit) return too_big("args and env");
  if (tmpl.wasm.stdin_data) {
    auto expanded = model::substitute(*tmpl.wasm.stdin_data, tmpl, workflow, limit);
    if (!expanded) return too_big("stdin");
    spec.stdin_data = std::move(*expanded);
  }
  return Ok{};
}

// CPU time of the calling thread (the module runs on it), in seconds.
double thread_cpu_seconds() {
  timespec now{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) != 0) return 0;
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// Which limit ended a run, if one did (for wwp_limit_hits_total).
std::string limit_of(const sandbox::RunOutcome& outcome, std::uint64_t memory_limit) {
  using End = sandbox::RunOutcome::End;
  if (outcome.end == End::TimedOut) return "timeout";
  if (outcome.end == End::OutputLimit) return "output";
  // The disk watch is the only thing that stops a run for a reason of the step's own.
  if (outcome.end == End::Stopped && !outcome.stop_transient) return "disk";
  const bool failed_run =
      outcome.end == End::Trapped || (outcome.end == End::Exited && outcome.exit_code != 0);
  // The same rule as the step's message (outcome_mapping.cpp): failing at the memory limit.
  if (failed_run && memory_limit > 0 && outcome.memory_bytes + (1ULL << 20) >= memory_limit)
    return "memory";
  return "";
}

std::string end_name(sandbox::RunOutcome::End end) {
  switch (end) {
    case sandbox::RunOutcome::End::Exited:
      return "exited";
    case sandbox::RunOutcome::End::Trapped:
      return "trapped";
    case sandbox::RunOutcome::End::TimedOut:
      return "timed_out";
    case sandbox::RunOutcome::End::OutputLimit:
      return "output_limit";
    case sandbox::RunOutcome::End::Stopped:
      return "stopped";
    case sandbox::RunOutcome::End::GaveUp:
      return "gave_up";
  }
  return "unknown";
}

// Milliseconds with microsecond precision ("0.412"): most steps take well under one.
std::string milliseconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", seconds * 1000);
  return text;
}

// The bounded part of a module's stderr that goes into the step's log line.
constexpr std::size_t kLoggedStderrBytes = 4096;

}  // namespace

Executor::Executor(ExecutorSettings settings, const sandbox::Engine& engine,
                   modules::ModuleResolver& modules, artifacts::ArtifactService* artifacts)
    : settings_(std::move(settings)), engine_(engine), modules_(modules), artifacts_(artifacts) {}

Executor::~Executor() {
  if (sweeper_.joinable()) sweeper_.join();
}

void Executor::start_sweep() {
  if (sweeper_.joinable()) return;
  sweeper_ = std::thread([this] {
    if (auto swept = sweep_leftover_sandboxes(); !swept) {
      spdlog::warn("sandbox sweep: {}", swept.error().message);
    }
  });
}

Result<SandboxParent*> Executor::sandbox_parent() {
  std::lock_guard lock(parent_mutex_);
  if (!parent_) {
    auto opened = SandboxParent::open(settings_.sandbox_parent);
    if (!opened) return opened.error();
    parent_ = std::move(*opened);
  }
  return parent_.get();
}

Result<SandboxParent::SweepReport> Executor::sweep_leftover_sandboxes() {
  auto parent = sandbox_parent();
  if (!parent) return parent.error();
  auto report = (*parent)->sweep();
  if (report.removed + report.failed > 0) {
    spdlog::info("removed {} sandbox directories left by earlier runs ({} could not be removed)",
                 report.removed, report.failed);
  }
  return report;
}

Result<model::NodeResult> Executor::execute(const model::Template& tmpl,
                                            const model::WorkflowMeta& workflow,
                                            const std::string& step_key, BoundedAttempt* attempt) {
  const auto started = std::chrono::steady_clock::now();
  // Every line logged while this thread works on the step names it.
  telemetry::LogFields fields;
  fields.add("workflow", workflow.name)
      .add("namespace", workflow.ns)
      .add("node", step_key)
      .add("template", tmpl.name)
      .add("module", tmpl.wasm.module.location);
  telemetry::Span span =
      telemetry::tracing_enabled() ? telemetry::start_root("step " + tmpl.name) : telemetry::Span();
  if (span.recording()) {
    span.set("argo.workflow.name", workflow.name);
    span.set("k8s.namespace.name", workflow.ns);
    span.set("argo.workflow.uid", workflow.uid);
    span.set("argo.template.name", tmpl.name);
    span.set("argo.node.key", step_key);
    span.set("wasm.module.ref", tmpl.wasm.module.location);
  }
  telemetry::ActiveSpan active(span);

  StepReport report;
  auto node = run_step(tmpl, workflow, step_key, report, attempt);
  if (attempt && attempt->gave_up) {
    // Not a step's end: it runs again the usual way, which reports it.
    span.set("wwp.step.gave_up", true);
    return node;
  }
  // Permanent problems with the step (bad module, missing artifact, limit) fail it with the reason.
  if (!node && !node.error().transient()) {
    if (report.limit.empty() && node.error().kind == ErrorKind::LimitExceeded)
      report.limit = "other";
    node = failed_node(node.error().message);
  }
  record_step(tmpl, node, report, std::chrono::steady_clock::now() - started, span);
  return node;
}

void Executor::record_step(const model::Template& tmpl, const Result<model::NodeResult>& node,
                           const StepReport& report, std::chrono::steady_clock::duration elapsed,
                           telemetry::Span& span) {
  // "Transient": the agent gets 503 and calls again; the step has no phase yet.
  const std::string phase = node ? std::string(model::to_string(node->phase)) : "Transient";
  const std::string& message = node ? node->message : node.error().message;
  const double seconds = std::chrono::duration<double>(elapsed).count();
  auto& metrics = telemetry::plugin_metrics();
  metrics.steps.with({phase, tmpl.wasm.module.location}).add();
  metrics.step_duration.with({phase}).observe(seconds);
  if (!report.limit.empty()) metrics.limit_hits.with({report.limit}).add();
  if (report.ran) {
    metrics.step_cpu.with({tmpl.wasm.module.location}).add(report.cpu_seconds);
    metrics.step_memory_peak.get().observe(static_cast<double>(report.memory_peak_bytes));
  }

  if (span.recording()) {
    span.set("wwp.step.phase", phase);
    if (!report.module_digest.empty()) span.set("wasm.module.digest", report.module_digest);
    if (report.ran) {
      span.set("wwp.step.cpu_seconds", report.cpu_seconds);
      span.set("wwp.step.memory_peak_bytes", static_cast<std::int64_t>(report.memory_peak_bytes));
    }
    if (!report.limit.empty()) span.set("wwp.step.limit", report.limit);
    if (phase != "Succeeded") span.set_error(message);
  }

  telemetry::LogFields fields;
  fields.add("phase", phase).add("duration_ms", milliseconds_text(seconds));
  if (!report.module_digest.empty()) fields.add("module_digest", report.module_digest);
  if (report.ran) {
    fields.add("cpu_ms", milliseconds_text(report.cpu_seconds))
        .add("memory_peak_bytes", std::to_string(report.memory_peak_bytes));
  }
  if (!report.limit.empty()) fields.add("limit", report.limit);
  if (!report.stderr_tail.empty()) fields.add("stderr", report.stderr_tail);
  if (phase == "Succeeded") {
    spdlog::info("step succeeded");
  } else {
    spdlog::info("step {}: {}", phase, message);
  }
}

Result<model::NodeResult> Executor::run_step(const model::Template& tmpl,
                                             const model::WorkflowMeta& workflow,
                                             const std::string& step_key, StepReport& usage,
                                             BoundedAttempt* attempt) {
  auto give_up = [attempt](std::string why) -> Error {
    attempt->gave_up = true;
    return transient("gave up the bounded attempt: " + why);
  };
  // What a discarded run may touch is its own sandbox only: no transfers, no outbound calls, no
  // module pull or compilation (all slow, or seen outside).
  if (attempt && !model::stays_in_sandbox(tmpl))
    return give_up("the step reaches beyond its sandbox");
  auto module =
      modules_.resolve(tmpl.wasm.module, kNoDeadline,
                       attempt ? modules::Compile::MemoryOnly : modules::Compile::Allowed);
  if (!module && attempt) return give_up(module.error().message);
  if (!module) return module.error();
  usage.module_digest = module->digest.str();

  sandbox::RunSpec spec;
  spec.limits = settings_.default_limits;
  if (tmpl.wasm.limits.timeout)
    spec.limits.timeout = std::min(*tmpl.wasm.limits.timeout, settings_.max_timeout);
  if (tmpl.wasm.limits.memory_bytes) spec.limits.memory_bytes = *tmpl.wasm.limits.memory_bytes;
  SandboxLimits disk = settings_.sandbox_limits;
  if (tmpl.wasm.limits.disk_bytes) {
    if (*tmpl.wasm.limits.disk_bytes > settings_.max_disk_bytes) {
      return invalid("disk limit " + format_quantity(*tmpl.wasm.limits.disk_bytes) +
                     " is above the plugin's maximum of " +
                     format_quantity(settings_.max_disk_bytes));
    }
    disk.bytes = *tmpl.wasm.limits.disk_bytes;
  }
  WWP_TRY(build_invocation(spec, tmpl, workflow, settings_.max_args_bytes));

  auto http = make_http_policy(tmpl.wasm.permissions, settings_.http, settings_.http_transport);
  if (!http) return http.error();
  if (*http && !settings_.http_transport)
    return failed("permissions.http: outbound HTTP is not available in this plugin");
  spec.http = std::move(*http);

  // One deadline for every phase: artifacts in, the run, artifacts out. It starts once the module
  // is ready, because fetching and compiling a module is shared, cached work, not this step's.
  const auto timeout = spec.limits.timeout;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const artifacts::StepContext step{workflow, tmpl.name, step_key, deadline, timeout};
  std::optional<SandboxDir> dir;
  if (needs_directory(tmpl, module->compiled)) {
    auto parent = sandbox_parent();
    if (!parent) return parent.error();
    auto created = (*parent)->create_step();
    if (!created) return created.error();
    dir.emplace(std::move(*created));
    spec.root_dir = dir->root();
    WWP_TRY(write_invocation(*dir, tmpl, workflow));
    if (!tmpl.input_artifacts.empty()) {
      if (artifacts_ == nullptr)
        return failed("input artifacts: this plugin has no artifact support configured");
      telemetry::Span staging = telemetry::start_child("artifacts in");
      staging.set("wwp.artifacts.count", static_cast<std::int64_t>(tmpl.input_artifacts.size()));
      // The service names the artifact it was placing when the deadline passed.
      if (auto staged = artifacts_->stage_inputs(tmpl, dir->root(), step); !staged) {
        staging.set_error(staged.error().message);
        return staged.error();
      }
      staging.end();
      WWP_TRY(step.check_deadline("placing input artifacts"));
      auto excess = disk_excess(dir->root(), disk);
      if (!excess) return excess.error().context("sandbox");
      if (*excess) {
        usage.limit = "disk";
        return limit_exceeded(**excess + " by the input artifacts (limits.disk)");
      }
    }
  }

  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  spec.limits.timeout = std::max(left, std::chrono::milliseconds(1));
  if (attempt) spec.give_up_at = attempt->by;
  std::optional<SandboxWatcher::Watch> watch;
  if (dir) {
    spec.stop = std::make_shared<sandbox::StopSignal>();
    watch.emplace(watcher_.watch(dir->root(), disk, settings_.disk_check_interval, spec.stop));
  }
  telemetry::Span running = telemetry::start_child("run");
  const double cpu_before = thread_cpu_seconds();
  auto outcome = sandbox::run(engine_, module->compiled, spec);
  const double cpu_used = thread_cpu_seconds() - cpu_before;
  watch.reset();
  if (outcome && outcome->end == sandbox::RunOutcome::End::GaveUp) return give_up("out of time");
  if (!outcome) {
    running.set_error(outcome.error().message);
    return outcome.error().context("module " + tmpl.wasm.module.location);
  }
  usage.ran = true;
  usage.cpu_seconds = cpu_used;
  usage.memory_peak_bytes = outcome->memory_bytes;
  usage.limit = limit_of(*outcome, spec.limits.memory_bytes);
  if (!outcome->stderr_data.empty())
    usage.stderr_tail = stderr_tail(outcome->stderr_data, 50, kLoggedStderrBytes);
  if (running.recording()) {
    running.set("wwp.run.end", end_name(outcome->end));
    if (outcome->end == sandbox::RunOutcome::End::Exited)
      running.set("process.exit.code", static_cast<std::int64_t>(outcome->exit_code));
    running.set("wwp.step.cpu_seconds", cpu_used);
    running.set("wwp.step.memory_peak_bytes", static_cast<std::int64_t>(outcome->memory_bytes));
  }
  running.end();
  // Interrupted through no fault of its own (the plugin is shutting down): the agent retries.
  if (outcome->end == sandbox::RunOutcome::End::Stopped && outcome->stop_transient)
    return transient(outcome->message);
  if (outcome->end == sandbox::RunOutcome::End::TimedOut)
    outcome->message = "timeout " + format_duration(timeout) + " exceeded";
  if (dir) {
    // Exact, now that nothing changes the tree: a burst at the very end escapes the watch.
    auto excess = disk_excess(dir->root(), disk);
    if (!excess) return failed_node("sandbox: " + excess.error().message);
    if (*excess) {
      usage.limit = "disk";
      return failed_node(**excess);
    }
  }
  std::optional<model::ModuleReport> report;
  // result.json counts only when the module ended on its own; after a trap, a timeout or a
  // non-zero exit the outcome itself is the better explanation.
  const bool exited_cleanly =
      outcome->end == sandbox::RunOutcome::End::Exited && outcome->exit_code == 0;
  if (dir && exited_cleanly) {
    const std::string result_path =
        "/" + std::string(model::kWorkDir) + "/" + std::string(model::kResultFile);
    auto text = read_confined(dir->root(), result_path, settings_.max_result_bytes);
    if (text) {
      auto parsed = model::parse_module_report(*text);
      if (!parsed) return failed_node(parsed.error().message);
      report = std::move(*parsed);
    } else if (text.error().kind != ErrorKind::NotFound) {
      return failed_node("result.json: " + text.error().message);
    }
  }

  model::NodeResult node = map_outcome(*outcome, report, spec.limits.memory_bytes);
  if (node.phase != model::Phase::Succeeded) return node;

  if (auto collected =
          collect_output_parameters(node, tmpl, dir ? &*dir : nullptr, settings_.max_result_bytes,
                                    settings_.max_output_parameters_bytes);
      !collected) {
    node.phase = model::Phase::Failed;  // keeps result and exitCode: they help explain the failure
    node.message = collected.error().message;
    return node;
  }
  const bool has_output_artifacts =
      !tmpl.output_artifacts.empty() || (report && !report->artifacts.empty());
  if (has_output_artifacts) {
    if (artifacts_ == nullptr)
      return failed_node("output artifacts: this plugin has no artifact support configured");
    telemetry::Span uploading = telemetry::start_child("artifacts out");
    auto uploaded = artifacts_->collect_outputs(
        tmpl, report ? report->artifacts : std::vector<model::Artifact>{}, dir->root(), step);
    if (!uploaded) uploading.set_error(uploaded.error().message);
    uploading.end();
    if (!uploaded) {
      if (uploaded.error().transient()) return uploaded.error();
      return failed_node(uploaded.error().message);
    }
    node.outputs.artifacts = std::move(*uploaded);
  }
  return node;
}

}  // namespace wwp::executor
