// Distributed mode's settings from the plugin's flags, checked before the server starts.
#pragma once

#include "cli/plugin_config.hpp"
#include "common/result.hpp"
#include "distributed/kube_api.hpp"
#include "distributed/pod_runner.hpp"

namespace wwp::cli {

Result<distributed::RunnerSettings> distributed_settings(const PluginConfig& config);
distributed::KubeApiOptions kube_api_options(const PluginConfig& config);

}  // namespace wwp::cli
