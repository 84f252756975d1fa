// The CLI's `push`, `pull` and `inspect` subcommands as library calls returning the JSON the CLI
// prints. They use the same settings, cache and code paths as the plugin, so they show what the
// plugin sees.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "oci/push.hpp"
#include "oci/settings.hpp"

namespace wwp::cli {

// `push module.wasm registry/repo:tag`: {"reference", "digest", "layer", "size", "layerUploaded"}.
Result<nlohmann::json> push_command(const oci::OciSettings& settings,
                                    const std::filesystem::path& module_file,
                                    const std::string& reference,
                                    const oci::PushOptions& options = {});

// `pull ref [-o file]`: fetches as a step with pullPolicy Always would, then copies the module to
// `output` (atomically) when given. Returns {"reference", "resolved", "digest", "size", "file"}.
Result<nlohmann::json> pull_command(
    const oci::OciSettings& settings, const std::string& reference,
    const std::optional<std::filesystem::path>& output = std::nullopt);

// `inspect ref`: the resolved digest, manifest media type, platform and layer chosen, size.
Result<nlohmann::json> inspect_command(const oci::OciSettings& settings,
                                       const std::string& reference);

}  // namespace wwp::cli
