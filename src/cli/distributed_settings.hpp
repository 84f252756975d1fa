// Distributed mode's settings from the plugin's flags, checked before the server starts.
#pragma once

#include <optional>
#include <string>

#include "artifacts/artifact_service.hpp"
#include "cli/plugin_config.hpp"
#include "common/result.hpp"
#include "distributed/kube_api.hpp"
#include "distributed/pod_runner.hpp"

namespace wwp::cli {

Result<distributed::RunnerSettings> distributed_settings(const PluginConfig& config);
distributed::KubeApiOptions kube_api_options(const PluginConfig& config);

// The default artifact repository of namespace `ns`, resolved by this process, in the form a
// step's pod receives it.
Result<std::optional<distributed::PodArtifactRepository>> pod_artifact_repository(
    artifacts::ArtifactService& artifacts, const std::string& ns);

}  // namespace wwp::cli
