#include "cli/distributed_settings.hpp"

#include "cli/plugin_runtime.hpp"

namespace wwp::cli {

Result<distributed::RunnerSettings> distributed_settings(const PluginConfig& config) {
  distributed::RunnerSettings s;
  if (config.pod_image.empty()) return invalid("--mode distributed needs --pod-image");
  s.pod.image = config.pod_image;
  if (config.pod_image_pull_policy != "Always" && config.pod_image_pull_policy != "IfNotPresent" &&
      config.pod_image_pull_policy != "Never") {
    return invalid("--pod-image-pull-policy: expected Always, IfNotPresent or Never, got \"" +
                   config.pod_image_pull_policy + "\"");
  }
  s.pod.image_pull_policy = config.pod_image_pull_policy;
  s.pod.pull_secrets = config.pod_pull_secrets;
  s.pod.service_account = config.pod_service_account;
  s.pod.runtime_class = config.pod_runtime_class;
  for (const auto& pair : config.pod_node_selector) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0)
      return invalid("--pod-node-selector " + pair + ": expected key=value");
    s.pod.node_selector[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  s.pod.tolerations = model::Json::parse(config.pod_tolerations, nullptr, false);
  if (s.pod.tolerations.is_discarded() || !s.pod.tolerations.is_array())
    return invalid("--pod-tolerations: expected a JSON array of tolerations");
  s.pod.host_network = config.pod_host_network;
  s.pod.cpu_request = config.pod_cpu_request;
  s.pod.cpu_limit = config.pod_cpu_limit;
  WWP_TRY_ASSIGN(s.pod.memory_overhead_bytes,
                 quantity_flag("pod-memory-overhead", config.pod_memory_overhead));
  WWP_TRY_ASSIGN(s.pod.default_memory_bytes,
                 quantity_flag("default-memory", config.default_memory));
  WWP_TRY_ASSIGN(s.pod.default_timeout, duration_flag("default-timeout", config.default_timeout));
  WWP_TRY_ASSIGN(s.start_timeout, duration_flag("pod-start-timeout", config.pod_start_timeout));
  WWP_TRY_ASSIGN(s.poll_interval, duration_flag("pod-poll-interval", config.pod_poll_interval));
  s.pod.run_args = config.pod_run_args;
  s.pod.artifact_secrets = config.pod_artifact_secrets;
  s.keep_pods = config.pod_keep;
  return s;
}

distributed::KubeApiOptions kube_api_options(const PluginConfig& config) {
  distributed::KubeApiOptions options;
  options.api_server = config.kube_api;
  options.token_file = config.kube_token_file;
  options.ca_file = config.kube_ca_file;
  return options;
}

Result<std::optional<distributed::PodArtifactRepository>> pod_artifact_repository(
    artifacts::ArtifactService& artifacts, const std::string& ns) {
  WWP_TRY_ASSIGN(auto resolved, artifacts.default_repository(ns));
  if (!resolved) return std::optional<distributed::PodArtifactRepository>();
  return std::optional<distributed::PodArtifactRepository>(distributed::PodArtifactRepository{
      artifacts::format_repository(resolved->s3), resolved->credentials.access_key,
      resolved->credentials.secret_key, resolved->credentials.session_token});
}

}  // namespace wwp::cli
