// The ArtifactService backed by an Argo artifact repository (S3), plus http and raw inputs.
// Behaves like argoexec so that Wasm steps and container steps can hand artifacts to each other.
#pragma once

#include <memory>

#include "artifacts/archive.hpp"
#include "artifacts/artifact_service.hpp"
#include "artifacts/factory.hpp"
#include "artifacts/repository_source.hpp"

namespace wwp::artifacts {

class RepositoryArtifactService final : public ArtifactService {
 public:
  RepositoryArtifactService(ArtifactSettings settings, std::shared_ptr<RepositorySource> source);

  Result<Ok> stage_inputs(const model::Template& tmpl, const std::filesystem::path& sandbox_root,
                          const StepContext& step) override;

  Result<std::vector<model::Artifact>> collect_outputs(const model::Template& tmpl,
                                                       const std::vector<model::Artifact>& reported,
                                                       const std::filesystem::path& sandbox_root,
                                                       const StepContext& step) override;

  Result<std::optional<ResolvedRepository>> default_repository(const std::string& ns) override {
    return source_->default_repository(ns);
  }

 private:
  class Call;  // per-call state: the step, the lazily resolved default repository
  Result<Ok> stage_one(Call& call, const model::Artifact& artifact, std::size_t index,
                       const std::filesystem::path& staging);
  Result<bool> fetch(Call& call, const model::Artifact& artifact,
                     const std::filesystem::path& download, const std::filesystem::path& directory);
  // `views`: where the artifact may be in the sandbox, in order of preference.
  Result<std::optional<model::Artifact>> upload_one(Call& call, const model::Artifact& artifact,
                                                    const std::vector<std::string>& views,
                                                    const std::filesystem::path& scratch,
                                                    std::size_t index);
  S3Client client_for(const S3Repository& repository, const S3Credentials& credentials) const;

  ArtifactSettings settings_;
  std::shared_ptr<RepositorySource> source_;
  ExtractLimits limits_;
};

}  // namespace wwp::artifacts
