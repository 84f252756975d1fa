#include "model/legacy_abi.hpp"

namespace wwp::model {

namespace {

std::string under_work(std::string_view dir, std::string_view artifact_path) {
  while (artifact_path.starts_with('/')) artifact_path.remove_prefix(1);
  std::string path = "/" + std::string(kWorkDir) + "/" + std::string(dir);
  if (!artifact_path.empty()) path += "/" + std::string(artifact_path);
  return path;
}

}  // namespace

std::string legacy_input_path(std::string_view artifact_path) {
  return under_work(kArtifactsInDir, artifact_path);
}

std::string legacy_output_path(std::string_view artifact_path) {
  return under_work(kArtifactsOutDir, artifact_path);
}

Json make_invocation(const Template& tmpl, const WorkflowMeta& workflow) {
  Json options = Json::array();
  for (const auto& [name, value] : tmpl.wasm.plugin_options) {
    options.push_back({{"name", name}, {"value", value}});
  }
  Json parameters = Json::array();
  for (const auto& p : tmpl.input_parameters) {
    parameters.push_back(
        {{"name", p.name}, {"value", p.value ? *p.value : p.default_value.value_or("")}});
  }
  Json artifacts = Json::array();
  for (const auto& a : tmpl.input_artifacts) {
    Json entry = to_json(a);
    entry["path"] = a.path.empty() ? legacy_input_path(a.name) : a.path;
    artifacts.push_back(std::move(entry));
  }
  return {{"workflow_name", workflow.name},
          {"plugin_options", std::move(options)},
          {"parameters", std::move(parameters)},
          {"artifacts", std::move(artifacts)}};
}

Result<ModuleReport> parse_module_report(std::string_view text) {
  auto parsed = parse_json(text, "result.json");
  if (!parsed) return failed(parsed.error().message);
  Json json = std::move(*parsed);
  if (!json.is_object())
    return failed("result.json: expected an object, got " + json_type_name(json));
  auto as_failure = [](const Error& e) {
    return Error{ErrorKind::Failed, "result.json: " + e.message};
  };
  ModuleReport report;
  auto phase = optional_string(json, "phase", "phase");
  if (!phase) return as_failure(phase.error());
  if (phase->has_value()) {
    auto parsed = parse_phase(**phase);
    if (!parsed || (*parsed != Phase::Succeeded && *parsed != Phase::Failed)) {
      return failed("result.json: phase: expected Succeeded or Failed, got \"" + **phase + "\"");
    }
    report.phase = *parsed;
  }
  auto message = optional_string(json, "message", "message");
  if (!message) return as_failure(message.error());
  report.message = message->value_or("");
  auto outputs = optional_object(json, "outputs", "outputs");
  if (!outputs) return as_failure(outputs.error());
  if (*outputs == nullptr) return report;
  auto params = optional_array(**outputs, "parameters", "outputs");
  if (!params) return as_failure(params.error());
  if (*params != nullptr) {
    for (std::size_t i = 0; i < (*params)->size(); ++i) {
      const Json& p = (**params)[i];
      std::string path = "outputs.parameters[" + std::to_string(i) + "]";
      auto name = required_string(p, "name", path);
      if (!name) return as_failure(name.error());
      report.parameters.push_back({*name, p.contains("value") ? render_value(p["value"]) : ""});
    }
  }
  auto artifacts = optional_array(**outputs, "artifacts", "outputs");
  if (!artifacts) return as_failure(artifacts.error());
  if (*artifacts != nullptr) {
    for (std::size_t i = 0; i < (*artifacts)->size(); ++i) {
      auto artifact =
          parse_artifact((**artifacts)[i], "outputs.artifacts[" + std::to_string(i) + "]");
      if (!artifact) return as_failure(artifact.error());
      report.artifacts.push_back(std::move(*artifact));
    }
  }
  return report;
}

}  // namespace wwp::model
