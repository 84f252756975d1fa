// What the CLI and the executor use: the artifact settings and the factory that turns them into
// an ArtifactService.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include "artifacts/artifact_service.hpp"
#include "artifacts/kube_client.hpp"
#include "common/result.hpp"
#include "net/http.hpp"
#include "net/retry.hpp"

namespace wwp::artifacts {

struct ArtifactSettings {
  // Argo's artifact repository YAML (see repository_config.hpp for the accepted forms).
  std::optional<std::filesystem::path> repository_config;
  // Mounted Secrets: <dir>/<secret-name>/<key> or <dir>/<key>.
  std::optional<std::filesystem::path> secrets_dir;
  // Fall back to AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
  bool credentials_from_env = true;
  // Find the repository (and read its Secrets) through the Kubernetes API, as Argo does.
  bool discover_from_kubernetes = false;
  KubernetesOptions kubernetes;

  // Unpacking limits per artifact: total extracted bytes and number of entries.
  std::uint64_t max_extract_bytes = 10ULL << 30;
  std::uint64_t max_extract_entries = 100000;
  // Uploads above this size use S3 multipart upload with parts of this size (at least 5 MiB).
  std::uint64_t multipart_part_size = 64ULL << 20;

  net::RetryPolicy retry;          // per request, for S3, http inputs and the Kubernetes API
  net::TransportOptions transfer;  // connect timeout, stall timeout, TLS verification, CA file
  // Where output archives are built before upload. Default: the system temp directory.
  std::optional<std::filesystem::path> scratch_dir;
};

// Errors: the repository configuration file is missing or invalid (checked now, so a bad
// deployment fails at start rather than at the first step).
Result<std::unique_ptr<ArtifactService>> make_artifact_service(ArtifactSettings settings);

}  // namespace wwp::artifacts
