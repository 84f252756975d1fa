#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/commands.hpp"
#include "cli/oci_commands.hpp"
#include "cli/plugin_runtime.hpp"

namespace wwp::cli {

namespace {

int print(const Result<nlohmann::json>& result) {
  if (!result) {
    spdlog::error("{}", result.error().message);
    return result.error().transient() ? 3 : 1;
  }
  std::cout << result->dump(2) << "\n";
  return 0;
}

}  // namespace

int push_module(const PluginConfig& config, const RegistryOptions& options) {
  oci::PushOptions push;
  if (!options.source.empty()) push.source = options.source;
  return print(push_command(oci_settings(config), options.file, options.reference, push));
}

int pull_module(const PluginConfig& config, const RegistryOptions& options) {
  std::optional<std::filesystem::path> output;
  if (!options.file.empty()) output = options.file;
  return print(pull_command(oci_settings(config), options.reference, output));
}

int inspect_module(const PluginConfig& config, const RegistryOptions& options) {
  return print(inspect_command(oci_settings(config), options.reference));
}

}  // namespace wwp::cli
