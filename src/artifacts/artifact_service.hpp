// Moves artifacts between the artifact repository and a step's sandbox directory. The executor
// calls stage_inputs() before the module runs and collect_outputs() after it succeeded.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "common/result.hpp"
#include "model/artifact.hpp"
#include "model/template.hpp"

namespace wwp::artifacts {

struct StepContext {
  model::WorkflowMeta workflow;
  std::string template_name;
  std::string step_key;  // stable per step; used to derive unique object keys
};

class ArtifactService {
 public:
  virtual ~ArtifactService() = default;

  // Places every input artifact at its declared path inside `sandbox_root` (the directory the
  // module sees as "/") and at /work/artifacts-in/<name> for modules of the earlier ABI.
  // A missing non-optional input fails with "input artifact <name> not found at <location>";
  // an unreachable repository is ErrorKind::Transient.
  virtual Result<Ok> stage_inputs(const model::Template& tmpl,
                                  const std::filesystem::path& sandbox_root,
                                  const StepContext& step) = 0;

  // Uploads the template's declared output artifacts (read from their `path` in the sandbox) and
  // the ones the module reported in result.json (read from /work/artifacts-out/<path>), and
  // returns them with their repository location filled in, ready for NodeResult.outputs.
  virtual Result<std::vector<model::Artifact>> collect_outputs(
      const model::Template& tmpl, const std::vector<model::Artifact>& reported,
      const std::filesystem::path& sandbox_root, const StepContext& step) = 0;
};

}  // namespace wwp::artifacts
