// Template -> NodeResult: resolves the module, prepares the sandbox directory, moves artifacts,
// runs the module and maps what happened to Argo outputs.
#pragma once

#include <chrono>
#include <filesystem>

#include "artifacts/artifact_service.hpp"
#include "common/result.hpp"
#include "executor/http_policy.hpp"
#include "model/node_result.hpp"
#include "model/template.hpp"
#include "modules/module_resolver.hpp"
#include "sandbox/engine.hpp"
#include "sandbox/run.hpp"

namespace wwp::executor {

struct ExecutorSettings {
  std::filesystem::path sandbox_parent;         // where step directories are created
  sandbox::RunLimits default_limits;            // for templates that set none
  std::uint64_t max_result_bytes = 1ULL << 20;  // result.json and each output parameter file
  HttpSettings http;                            // what templates may grant (permissions.http)
  sandbox::HttpTransport http_transport;        // empty: outbound HTTP is unavailable
  // The operator's cap on a template's limits.timeout (--max-timeout); longer ones are cut.
  std::chrono::milliseconds max_timeout{std::chrono::hours(24)};
};

class Executor {
 public:
  Executor(ExecutorSettings settings, const sandbox::Engine& engine,
           modules::ModuleResolver& modules, artifacts::ArtifactService* artifacts);

  // An Error here is about the plugin's environment (Transient: the agent retries with 503);
  // everything about the step itself, including bad configuration, is a Failed NodeResult.
  Result<model::NodeResult> execute(const model::Template& tmpl,
                                    const model::WorkflowMeta& workflow,
                                    const std::string& step_key);

 private:
  Result<model::NodeResult> run_step(const model::Template& tmpl,
                                     const model::WorkflowMeta& workflow,
                                     const std::string& step_key);

  ExecutorSettings settings_;
  const sandbox::Engine& engine_;
  modules::ModuleResolver& modules_;
  artifacts::ArtifactService* artifacts_;
};

}  // namespace wwp::executor
