#include "executor/executor.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <fstream>

#include "common/units.hpp"
#include "executor/outcome_mapping.hpp"
#include "executor/sandbox_dir.hpp"
#include "model/legacy_abi.hpp"

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
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << model::make_invocation(tmpl, workflow).dump();
  out.flush();
  if (!out) return transient("cannot write " + path.string());
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
// (already in node.outputs) win for the same name.
Result<Ok> collect_output_parameters(model::NodeResult& node, const model::Template& tmpl,
                                     const SandboxDir* dir, std::uint64_t limit) {
  for (const auto& declared : tmpl.output_parameters) {
    bool reported = false;
    for (const auto& p : node.outputs.parameters) reported = reported || p.name == declared.name;
    if (reported) continue;
    std::optional<std::string> value;
    if (declared.value_from_path && dir != nullptr) {
      auto content = read_confined(dir->root(), *declared.value_from_path, limit);
      if (content) {
        value = std::move(*content);
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
    node.outputs.parameters.push_back({declared.name, std::move(*value)});
  }
  return Ok{};
}

}  // namespace

Executor::Executor(ExecutorSettings settings, const sandbox::Engine& engine,
                   modules::ModuleResolver& modules, artifacts::ArtifactService* artifacts)
    : settings_(std::move(settings)), engine_(engine), modules_(modules), artifacts_(artifacts) {}

Result<model::NodeResult> Executor::execute(const model::Template& tmpl,
                                            const model::WorkflowMeta& workflow,
                                            const std::string& step_key) {
  auto node = run_step(tmpl, workflow, step_key);
  if (node || node.error().transient()) return node;
  // Permanent problems with the step (bad module, missing artifact, limit) fail it with the reason.
  return failed_node(node.error().message);
}

Result<model::NodeResult> Executor::run_step(const model::Template& tmpl,
                                             const model::WorkflowMeta& workflow,
                                             const std::string& step_key) {
  auto module = modules_.resolve(tmpl.wasm.module);
  if (!module) return module.error();

  sandbox::RunSpec spec;
  spec.limits = settings_.default_limits;
  if (tmpl.wasm.limits.timeout)
    spec.limits.timeout = std::min(*tmpl.wasm.limits.timeout, settings_.max_timeout);
  if (tmpl.wasm.limits.memory_bytes) spec.limits.memory_bytes = *tmpl.wasm.limits.memory_bytes;
  spec.argv.push_back(tmpl.name.empty() ? "module.wasm" : tmpl.name);
  for (const auto& arg : tmpl.wasm.args)
    spec.argv.push_back(model::substitute(arg, tmpl, workflow));
  for (const auto& [key, value] : tmpl.wasm.env)
    spec.env.emplace_back(key, model::substitute(value, tmpl, workflow));
  if (tmpl.wasm.stdin_data)
    spec.stdin_data = model::substitute(*tmpl.wasm.stdin_data, tmpl, workflow);

  auto http = make_http_policy(tmpl.wasm.permissions, settings_.http, settings_.http_transport);
  if (!http) return http.error();
  if (*http && !settings_.http_transport)
    return failed("permissions.http: outbound HTTP is not available in this plugin");
  spec.http = std::move(*http);

  const artifacts::StepContext step{workflow, tmpl.name, step_key};
  std::optional<SandboxDir> dir;
  if (needs_directory(tmpl, module->compiled)) {
    auto created = SandboxDir::create(settings_.sandbox_parent);
    if (!created) return created.error();
    dir.emplace(std::move(*created));
    spec.root_dir = dir->root();
    WWP_TRY(write_invocation(*dir, tmpl, workflow));
    if (!tmpl.input_artifacts.empty()) {
      if (artifacts_ == nullptr)
        return failed("input artifacts: this plugin has no artifact support configured");
      WWP_TRY(artifacts_->stage_inputs(tmpl, dir->root(), step));
    }
  }

  auto outcome = sandbox::run(engine_, module->compiled, spec);
  if (!outcome) return outcome.error().context("module " + tmpl.wasm.module.location);
  // Interrupted through no fault of its own (the plugin is shutting down): the agent retries.
  if (outcome->end == sandbox::RunOutcome::End::Stopped && outcome->stop_transient)
    return transient(outcome->message);

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
          collect_output_parameters(node, tmpl, dir ? &*dir : nullptr, settings_.max_result_bytes);
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
    auto uploaded = artifacts_->collect_outputs(
        tmpl, report ? report->artifacts : std::vector<model::Artifact>{}, dir->root(), step);
    if (!uploaded) {
      if (uploaded.error().transient()) return uploaded.error();
      return failed_node(uploaded.error().message);
    }
    node.outputs.artifacts = std::move(*uploaded);
  }
  return node;
}

}  // namespace wwp::executor
