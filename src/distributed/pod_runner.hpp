// Distributed mode: one step, one pod. `run` creates the step's Secret and Pod (or finds them:
// the names are deterministic, so a repeated call or a restarted plugin adopts the pod already
// there), follows the pod until it ends, reads the node result from its termination message (or
// its log when the result is bigger than the 4 KiB Kubernetes keeps), and deletes both. The
// server answers Running + requeue meanwhile, as for a local step.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "distributed/kube_api.hpp"
#include "distributed/pod_spec.hpp"
#include "model/node_result.hpp"
#include "model/template.hpp"

namespace wwp::distributed {

struct RunnerSettings {
  PodSettings pod;
  std::chrono::milliseconds poll_interval{500};
  std::chrono::milliseconds start_timeout{120000};  // image pulls, scheduling
  // How often a running step's Workflow is read: a stopped, terminated or finished workflow (its
  // agent pod goes away, and this plugin with it) leaves no step pod running to its deadline.
  std::chrono::milliseconds workflow_check_interval{5000};
  bool keep_pods = false;  // for debugging: leave finished pods
  // The default artifact repository of a namespace, asked for steps with artifacts (unset or
  // nullopt: the pod finds none, unless its run_args configure one). An error is the step's.
  std::function<Result<std::optional<PodArtifactRepository>>(const std::string& ns)>
      artifact_repository;
};

class PodRunner {
 public:
  PodRunner(KubeApi api, RunnerSettings settings);

  // The step's node result. Transient errors (API server unreachable, 5xx) are returned as such
  // (503 to the agent, which asks again and this adopts the same pod).
  Result<model::NodeResult> run(const model::ExecuteRequest& request) const;

 private:
  Result<model::Json> create_or_adopt(const model::ExecuteRequest& request) const;
  Result<model::NodeResult> follow(const model::ExecuteRequest& request, model::Json pod) const;
  Result<std::string> read_log(const std::string& ns, const std::string& name) const;
  // Why the step's workflow no longer wants it ("stopped", "deleted", ...), or nullopt.
  std::optional<std::string> workflow_gone(const model::ExecuteRequest& request) const;
  // Deletes the step's pod and Secret (not with keep_pods, unless `even_if_kept`).
  void remove(const std::string& ns, const std::string& name, bool even_if_kept = false) const;

  KubeApi api_;
  RunnerSettings settings_;
};

}  // namespace wwp::distributed
