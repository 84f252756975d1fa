#include "artifacts/factory.hpp"

#include "artifacts/repository_artifact_service.hpp"
#include "artifacts/repository_source.hpp"

namespace wwp::artifacts {

Result<std::unique_ptr<ArtifactService>> make_artifact_service(ArtifactSettings settings) {
  RepositorySourceOptions options;
  options.config_file = settings.repository_config;
  options.secrets_dir = settings.secrets_dir;
  options.use_env_credentials = settings.credentials_from_env;
  options.discover_from_kubernetes = settings.discover_from_kubernetes;
  options.kubernetes = settings.kubernetes;
  options.kubernetes.transfer.connect_timeout = settings.transfer.connect_timeout;
  options.kubernetes.transfer.stall_timeout = settings.transfer.stall_timeout;
  auto source = RepositorySource::create(std::move(options));
  if (!source) return source.error();
  return std::unique_ptr<ArtifactService>(
      std::make_unique<RepositoryArtifactService>(std::move(settings), std::move(*source)));
}

}  // namespace wwp::artifacts
