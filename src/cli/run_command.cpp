#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/plugin_runtime.hpp"
#include "cli/yaml_json.hpp"
#include "model/template.hpp"
#include "telemetry/tracer.hpp"

namespace wwp::cli {

namespace {

// Finds the template to run: the file is a Workflow/WorkflowTemplate (entrypoint or --template)
// or a single template object.
Result<model::Json> select_template(const model::Json& document, const std::string& wanted) {
  if (!document.is_object()) return invalid("the file holds no YAML/JSON object");
  if (document.contains("template")) return document["template"];  // a template.execute body
  if (!document.contains("spec")) return document;
  const model::Json& spec = document["spec"];
  std::string name = wanted;
  if (name.empty() && spec.contains("entrypoint") && spec["entrypoint"].is_string())
    name = spec["entrypoint"];
  if (!spec.contains("templates") || !spec["templates"].is_array())
    return invalid("spec.templates: is required");
  for (const auto& t : spec["templates"]) {
    if (t.is_object() && t.value("name", "") == name) return t;
  }
  return invalid("template \"" + name + "\" not found in spec.templates");
}

Result<Ok> apply_parameters(model::Json& tmpl, const model::Json& document,
                            const std::vector<std::string>& assignments) {
  std::map<std::string, std::string> values;
  // Workflow arguments first, then -p, as `argo submit -p` overrides them.
  if (document.contains("spec") && document["spec"].contains("arguments")) {
    for (const auto& p : document["spec"]["arguments"].value("parameters", model::Json::array())) {
      if (p.contains("name") && p.contains("value"))
        values[p["name"]] = model::render_value(p["value"]);
    }
  }
  for (const auto& assignment : assignments) {
    auto eq = assignment.find('=');
    if (eq == std::string::npos) return invalid("-p " + assignment + ": expected name=value");
    values[assignment.substr(0, eq)] = assignment.substr(eq + 1);
  }
  if (!tmpl.contains("inputs") || !tmpl["inputs"].contains("parameters")) return Ok{};
  for (auto& p : tmpl["inputs"]["parameters"]) {
    if (!p.is_object() || !p.contains("name")) continue;
    if (auto it = values.find(p["name"].get<std::string>()); it != values.end())
      p["value"] = it->second;
    if (!p.contains("value") && p.contains("default")) p["value"] = p["default"];
  }
  return Ok{};
}

// Kubernetes keeps 4 KiB of a container's termination message; a bigger result is left to the
// log (stdout), where distributed mode looks for it.
void write_result_file(const std::string& path, const std::string& reply) {
  constexpr std::size_t kTerminationMessageLimit = 4096;
  if (reply.size() + 1 > kTerminationMessageLimit) return;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << reply << "\n";
  if (!out) spdlog::warn("--result-file {}: could not write the result", path);
}

}  // namespace

int run_local(const PluginConfig& config, const RunOptions& options) {
  std::ifstream in(options.file);
  if (!in) {
    spdlog::error("cannot read {}", options.file);
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto document = yaml_to_json(text.str());  // JSON is YAML too
  if (!document) {
    spdlog::error("{}: {}", options.file, document.error().message);
    return 2;
  }
  auto selected = select_template(*document, options.template_name);
  if (!selected) {
    spdlog::error("{}: {}", options.file, selected.error().message);
    return 2;
  }
  model::Json tmpl_json = *selected;
  if (auto applied = apply_parameters(tmpl_json, *document, options.parameters); !applied) {
    spdlog::error("{}", applied.error().message);
    return 2;
  }
  model::Json body = {
      {"workflow",
       {{"metadata",
         {{"name", options.workflow_name}, {"namespace", "default"}, {"uid", "local"}}}}},
      {"template", tmpl_json}};
  // A whole template.execute body (distributed mode's pods get one) keeps its workflow.
  if (document->contains("workflow") && (*document)["workflow"].is_object())
    body["workflow"] = (*document)["workflow"];
  auto request = model::parse_execute_request(body);
  if (!request) {
    spdlog::error("{}", request.error().message);  // the server would answer 400
    return 2;
  }
  if (!request->tmpl) {
    std::cout << "{}\n";
    spdlog::warn("the template has no plugin.wasm block: the plugin would not execute it");
    return 1;
  }
  auto runtime = PluginRuntime::create(config);
  if (!runtime) {
    spdlog::error("{}", runtime.error().message);
    return 2;
  }
  auto node = (*runtime)->executor().execute(*request->tmpl, request->workflow, request->step_key);
  // The step's spans leave before the process does (bounded: a dead collector costs ~2 s at most).
  (*runtime)->flush_traces();
  if (!node) {
    spdlog::error("{} (the server would answer 503 and the agent would retry)",
                  node.error().message);
    return 3;
  }
  const std::string reply = model::to_text(model::ExecuteReply{*node, std::nullopt});
  std::cout << reply << "\n" << std::flush;
  if (!options.result_file.empty()) write_result_file(options.result_file, reply);
  return node->phase == model::Phase::Succeeded ? 0 : 1;
}

}  // namespace wwp::cli
