// Where the default artifact repository and its credentials come from: a mounted configuration
// file (re-read when it changes, as mounted ConfigMaps are updated in place), or discovery from
// the Kubernetes API the way Argo resolves it:
//   1. the workflow namespace's `artifact-repositories` ConfigMap, entry named by the
//      workflows.argoproj.io/default-artifact-repository annotation;
//   2. the controller ConfigMap (`workflow-controller-configmap` in the controller namespace),
//      key artifactRepository, or artifactRepository inside its `config` key.
// The file wins when both are configured. Credentials: mounted Secret files, the Secrets read
// from the API (discovery only), then the AWS_* environment variables.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "artifacts/kube_client.hpp"
#include "artifacts/repository_config.hpp"
#include "artifacts/s3_client.hpp"
#include "common/result.hpp"
#include "model/artifact.hpp"

namespace wwp::artifacts {

struct RepositorySourceOptions {
  std::optional<std::filesystem::path> config_file;
  std::optional<std::filesystem::path> secrets_dir;
  bool use_env_credentials = true;
  bool discover_from_kubernetes = false;
  KubernetesOptions kubernetes;
  // How long discovered repositories and Secrets are reused before the API is asked again.
  std::chrono::seconds discovery_cache_ttl{60};
};

struct ResolvedRepository {
  S3Repository s3;
  S3Credentials credentials;
  std::string origin;
};

class RepositorySource {
 public:
  // Fails when the configured file is missing or invalid, so a bad deployment is caught at start.
  static Result<std::shared_ptr<RepositorySource>> create(RepositorySourceOptions options);

  // The default repository for workflows in namespace `ns` with credentials resolved; nullopt
  // when none is configured anywhere.
  Result<std::optional<ResolvedRepository>> default_repository(const std::string& ns);

  // Credentials for an artifact that names its own S3 location: its Secret references if it has
  // them, else the default repository's when it points at the same endpoint, else the environment.
  Result<S3Credentials> credentials_for(
      const model::S3Location& location, const std::string& ns,
      const std::optional<ResolvedRepository>& default_repository);

  bool configured() const { return options_.config_file || options_.discover_from_kubernetes; }
  std::string describe_sources() const;

 private:
  explicit RepositorySource(RepositorySourceOptions options);
  Result<std::optional<ArtifactRepository>> from_file();
  Result<std::optional<ArtifactRepository>> discover(const std::string& ns);
  Result<S3Credentials> resolve_credentials(const std::optional<model::SecretKeyRef>& access,
                                            const std::optional<model::SecretKeyRef>& secret,
                                            const std::optional<model::SecretKeyRef>& token,
                                            const std::string& ns);

  RepositorySourceOptions options_;
  std::unique_ptr<KubernetesClient> kubernetes_;
  std::mutex mutex_;
  // Last parse of config_file and the mtime it was parsed at.
  std::optional<ArtifactRepository> file_repository_;
  std::filesystem::file_time_type file_mtime_{};
  struct Cached {
    std::chrono::steady_clock::time_point at;
    std::optional<ArtifactRepository> repository;
  };
  std::map<std::string, Cached> discovered_;
  std::map<std::string,
           std::pair<std::chrono::steady_clock::time_point, std::optional<std::string>>>
      secret_cache_;
};

}  // namespace wwp::artifacts
