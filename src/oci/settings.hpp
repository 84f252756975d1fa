// What the OCI module source is configured with, and the registry client options it implies.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "oci/registry_client.hpp"
#include "provenance/verifier.hpp"

namespace wwp::oci {

struct OciSettings {
  std::filesystem::path cache_dir;  // blobs under cache_dir/blobs, other state beside it
  std::vector<std::string> insecure_registries;        // plain HTTP
  std::optional<std::filesystem::path> docker_config;  // dockerconfigjson file
  std::optional<std::string> username, password;       // default credentials (flags/env)
  std::optional<std::filesystem::path> ca_file;
  std::chrono::seconds tag_refresh{60};
  std::uint64_t max_blob_bytes = 256ull << 20;
  std::uint64_t max_cache_bytes = 2ull << 30;
  std::chrono::milliseconds time_budget{15000};
  // Registries the default username/password may be sent to; empty means any registry that
  // the docker config does not cover.
  std::vector<std::string> credential_hosts;
  // Module provenance: which repositories need a cosign signature, and the keys that may sign.
  // Null: no module is checked.
  std::shared_ptr<const provenance::Verifier> signatures;
};

// Client options (credentials loaded from the docker config) for these settings.
Result<ClientOptions> client_options(const OciSettings& settings);

// `$DOCKER_CONFIG/config.json` when DOCKER_CONFIG is set and that file exists (the Docker CLI's
// convention), for a plugin given no docker config file explicitly. `getenv` replaces the
// process environment in tests.
using GetEnv = std::function<std::optional<std::string>(const char* name)>;
std::optional<std::filesystem::path> docker_config_from_environment(const GetEnv& getenv = {});

}  // namespace wwp::oci
