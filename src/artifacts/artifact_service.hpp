// Moves artifacts between the artifact repository and a step's sandbox directory. The executor
// calls stage_inputs() before the module runs and collect_outputs() after it succeeded.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "artifacts/repository_source.hpp"
#include "common/deadline.hpp"
#include "common/result.hpp"
#include "model/artifact.hpp"
#include "model/template.hpp"

namespace wwp::artifacts {

struct StepContext {
  model::WorkflowMeta workflow;
  std::string template_name;
  std::string step_key;  // stable per step; used to derive unique object keys
  // The step's one deadline, shared by every phase (artifacts in, run, artifacts out), and the
  // timeout it comes from (for messages). No deadline: no limit.
  Deadline deadline = kNoDeadline;
  std::chrono::milliseconds timeout{0};

  bool past_deadline() const;
  // Failed "timeout 2s exceeded while <doing>" once the deadline has passed, Ok before.
  Result<Ok> check_deadline(std::string_view doing) const;
  // `error` unchanged before the deadline; after it, the timeout (whatever the transfer said:
  // a transfer cut at the deadline is not a repository fault to retry).
  Error at_deadline(Error error, std::string_view doing) const;
};

class ArtifactService {
 public:
  virtual ~ArtifactService() = default;

  // Places every input artifact at its declared path inside `sandbox_root` (the directory the
  // module sees as "/") and, for modules of the earlier ABI, at /work/artifacts-in/<that path>
  // (hard-linked, copied where linking fails); one without a path at /work/artifacts-in/<name>.
  // A missing non-optional input fails with "input artifact <name> not found at <location>";
  // an unreachable repository is ErrorKind::Transient.
  virtual Result<Ok> stage_inputs(const model::Template& tmpl,
                                  const std::filesystem::path& sandbox_root,
                                  const StepContext& step) = 0;

  // Uploads the template's declared output artifacts (read from their `path` in the sandbox, or
  // from /work/artifacts-out/<path> when the module wrote it there as the earlier SDK does) and
  // the ones the module reported in result.json (read from /work/artifacts-out/<path>), and
  // returns them with their repository location filled in, ready for NodeResult.outputs.
  virtual Result<std::vector<model::Artifact>> collect_outputs(
      const model::Template& tmpl, const std::vector<model::Artifact>& reported,
      const std::filesystem::path& sandbox_root, const StepContext& step) = 0;

  // The default repository for workflows in namespace `ns` with its credentials resolved
  // (nullopt when none is configured): what distributed mode hands to a step's pod, so that the
  // pod needs neither discovery rights nor the repository's Secrets.
  virtual Result<std::optional<ResolvedRepository>> default_repository(const std::string& ns) = 0;
};

}  // namespace wwp::artifacts
