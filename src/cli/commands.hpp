// The subcommands. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

#include "cli/plugin_config.hpp"

namespace wwp::cli {

int serve(const PluginConfig& config);

struct RunOptions {
  std::string file;                     // Workflow YAML, or a template as JSON/YAML
  std::string template_name;            // default: the workflow's entrypoint
  std::vector<std::string> parameters;  // name=value
  std::string workflow_name = "local-run";
  std::string result_file;  // also write the node result here when it fits in 4 KiB
};
int run_local(const PluginConfig& config, const RunOptions& options);

// Module authors publish and check modules with the plugin itself: push, pull, inspect.
struct RegistryOptions {
  std::string reference;
  std::string file;    // push: the module; pull: where to write it (optional)
  std::string source;  // push: org.opencontainers.image.source
};
int push_module(const PluginConfig& config, const RegistryOptions& options);
int pull_module(const PluginConfig& config, const RegistryOptions& options);
int inspect_module(const PluginConfig& config, const RegistryOptions& options);

}  // namespace wwp::cli
