// What a step's pod looks like: the plugin's own image running `run` on the request, mounted from
// a Secret (requests may carry credentials in parameters), with the template's limits as the
// pod's resources and deadline, non-root and a read-only root filesystem.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/json_fields.hpp"
#include "model/template.hpp"

namespace wwp::distributed {

struct PodSettings {
  std::string image;  // the plugin's image (required)
  std::string image_pull_policy = "IfNotPresent";
  std::vector<std::string> pull_secrets;
  std::string service_account;  // empty: the namespace's default
  std::string runtime_class;
  std::map<std::string, std::string> node_selector;
  model::Json tolerations = model::Json::array();
  bool host_network = false;
  std::string cpu_request = "100m";
  std::string cpu_limit;  // empty: none
  // Memory the plugin process needs beside the module's own limit (engine, caches, artifacts).
  std::uint64_t memory_overhead_bytes = 128ull << 20;
  std::uint64_t default_memory_bytes = 256ull << 20;  // a template without limits.memory
  std::chrono::milliseconds default_timeout{600000};  // a template without limits.timeout
  // Added to the step's timeout for activeDeadlineSeconds (pulling the image, starting, artifacts).
  std::chrono::seconds deadline_slack{60};
  std::vector<std::string> run_args;  // extra flags for `run` (module sources, artifacts, limits)
  // Secrets holding artifact credentials, mounted as <dir>/<name>/<key> (--artifact-secrets-dir).
  std::vector<std::string> artifact_secrets;
  std::int64_t run_as_user = 65532;
};

// The default artifact repository as the plugin resolved it (a file or discovery): Argo's
// configuration document without Secret references, and the credentials. Both travel in the
// step's request Secret, so a step pod needs neither discovery rights nor the repository's
// Secrets mounted.
struct PodArtifactRepository {
  std::string config;
  std::string access_key;
  std::string secret_key;
  std::string session_token;
};

// Deterministic, so the agent's repeated calls (and a restarted plugin) find the same pod:
// "wwp-" + the first 40 hex digits of sha256(step key).
std::string pod_name(const std::string& step_key);
// The label value naming the step (the same digest, 63 characters at most).
std::string step_label(const std::string& step_key);

inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedBy = "wasm-workflows-plugin";
inline constexpr const char* kStepLabel = "wasm-workflows-plugin/step";
inline constexpr const char* kWorkflowLabel = "workflows.argoproj.io/workflow";
inline constexpr const char* kContainerName = "step";

// The body of a `template.execute` call, as `run` reads it.
model::Json request_body(const model::ExecuteRequest& request, const model::Json& template_json);

// The Secret holding the request (and the artifact repository, when there is one), owned by the
// Workflow (gone with it) and deleted with the pod.
model::Json build_request_secret(const model::ExecuteRequest& request, const model::Json& body,
                                 const std::optional<PodArtifactRepository>& repository);

model::Json build_pod(const model::ExecuteRequest& request, const PodSettings& settings,
                      const std::optional<PodArtifactRepository>& repository);

}  // namespace wwp::distributed
