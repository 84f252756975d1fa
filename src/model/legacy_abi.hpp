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

// The earlier SDK's ArtifactManager joins an artifact's path (leading '/' dropped) under these
// directories: input artifact {path: /in/x.jpg} is read at /work/artifacts-in/in/x.jpg, a
// reported output {path: /out.png} is written at /work/artifacts-out/out.png.
std::string legacy_input_path(std::string_view artifact_path);
std::string legacy_output_path(std::string_view artifact_path);

// {"workflow_name", "plugin_options": [{name, value}], "parameters": [{name, value}],
//  "artifacts": [{name, path, ...}]}. An artifact's path is its declared path, as the earlier
// plugin passed it (the file is there and at legacy_input_path(path)); an artifact declared
// without a path is at /work/artifacts-in/<name>, and that is the path given.
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
