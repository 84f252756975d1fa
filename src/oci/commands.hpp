// The CLI's `push`, `pull` and `inspect` subcommands as library calls (the CLI parses flags and
// prints). They use the same settings, cache and code paths as the plugin, so they show what the
// plugin sees.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "modules/oci_source.hpp"
#include "oci/push.hpp"

namespace wwp::oci {

// `push module.wasm registry/repo:tag`: prints (returns) {"reference", "digest", "layer", "size"}.
Result<nlohmann::json> push_command(const modules::OciSettings& settings,
                                    const std::filesystem::path& module_file,
                                    const std::string& reference, const PushOptions& options = {});

// `pull ref [-o file]`: fetches as a step with pullPolicy Always would, then copies the module to
// `output` (atomically) when given. Returns {"reference", "resolved", "digest", "size", "file"}.
Result<nlohmann::json> pull_command(
    const modules::OciSettings& settings, const std::string& reference,
    const std::optional<std::filesystem::path>& output = std::nullopt);

// `inspect ref`: the resolved digest, manifest media type, platform and layer chosen, size.
Result<nlohmann::json> inspect_command(const modules::OciSettings& settings,
                                       const std::string& reference);

// Splits "host1, host2:5000" (INSECURE_OCI_REGISTRIES) into entries.
std::vector<std::string> split_registry_list(std::string_view text);

// Fills unset settings from the environment:
//   INSECURE_OCI_REGISTRIES  comma-separated host[:port] list reached over plain HTTP (appended)
//   OCI_USERNAME, OCI_PASSWORD  default registry credentials
//   OCI_DOCKER_CONFIG        a Docker config / dockerconfigjson file; else
//   $DOCKER_CONFIG/config.json
//                            when that file exists
//   OCI_CA_FILE              PEM bundle trusted for registry TLS
using GetEnv = std::function<std::optional<std::string>(const char*)>;
void apply_oci_environment(modules::OciSettings& settings, const GetEnv& getenv = {});

}  // namespace wwp::oci
