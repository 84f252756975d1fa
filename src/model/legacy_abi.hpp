// The file ABI of the earlier (Rust) implementation, kept so its modules keep working:
// the plugin writes /work/input.json, the module may write /work/result.json.
#pragma once

#include <optional>
#include <string>

#include "model/node_result.hpp"
#include "model/template.hpp"

namespace wwp::model {

inline constexpr std::string_view kWorkDir = "work";  // /work inside the sandbox
inline constexpr std::string_view kInputFile = "input.json";
inline constexpr std::string_view kResultFile = "result.json";
inline constexpr std::string_view kArtifactsInDir = "artifacts-in";
inline constexpr std::string_view kArtifactsOutDir = "artifacts-out";

// {"workflow_name", "plugin_options": [{name, value}], "parameters": [{name, value}],
//  "artifacts": [{name, path, ...}]} where artifact paths point under /work/artifacts-in.
Json make_invocation(const Template& tmpl, const WorkflowMeta& workflow);

// What a module reported in result.json. Artifacts name files under /work/artifacts-out.
struct ModuleReport {
  Phase phase = Phase::Succeeded;
  std::string message;
  std::vector<OutputParameter> parameters;
  std::vector<Artifact> artifacts;
};

// Parses result.json; errors name the field ("result.json: outputs.parameters[0].name: ...").
Result<ModuleReport> parse_module_report(std::string_view text);

}  // namespace wwp::model
