// The artifact repository in Argo's own configuration format, so the plugin reads the same YAML
// the workflow controller does. Accepted documents:
//   - an ArtifactRepository:            s3: {endpoint, bucket, ...}
//   - the same wrapped:                 artifactRepository: {s3: ...}
//   - the controller's `config` key:    a document with artifactRepository: among other settings
//   - a ConfigMap manifest (kind: ConfigMap) of either `workflow-controller-configmap` (data.
//     artifactRepository or data.config) or `artifact-repositories` (the entry named by the
//     workflows.argoproj.io/default-artifact-repository annotation, or its only entry)
// Credentials come from mounted Secret files or the AWS_* environment variables.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "artifacts/s3_client.hpp"
#include "common/result.hpp"
#include "model/artifact.hpp"

namespace wwp::artifacts {

inline constexpr std::string_view kDefaultRepositoryAnnotation =
    "workflows.argoproj.io/default-artifact-repository";

struct S3Repository {
  std::string endpoint;
  std::string bucket;
  std::string region;
  bool insecure = false;
  S3Addressing addressing = S3Addressing::Auto;
  std::string key_format;  // empty: Argo's default, "{{workflow.name}}/{{pod.name}}"
  std::string key_prefix;  // Argo's deprecated alternative to keyFormat
  std::optional<model::SecretKeyRef> access_key_secret;
  std::optional<model::SecretKeyRef> secret_key_secret;
  std::optional<model::SecretKeyRef> session_token_secret;
};

struct ArtifactRepository {
  std::optional<S3Repository> s3;
  std::string unsupported_kind;  // "gcs", "azure", ... when that is what is configured
  std::string origin;            // for messages: "file /etc/...", "ConfigMap argo/..."
};

// `origin` prefixes every error message.
Result<ArtifactRepository> parse_repository(std::string_view yaml, std::string_view origin);
Result<ArtifactRepository> load_repository_file(const std::filesystem::path& file);

// The same parser for the pieces discovery fetches from the API: the value of one data key.
Result<ArtifactRepository> parse_repository_entry(std::string_view yaml, std::string_view origin);

// A Secret value from mounted files: <dir>/<secret name>/<key> (one volume per Secret under a
// common directory) or <dir>/<key> (a single Secret mounted at <dir>). Trailing whitespace is
// dropped, as Argo does. nullopt when neither file exists.
Result<std::optional<std::string>> read_secret_file(const std::filesystem::path& dir,
                                                    const model::SecretKeyRef& ref);

// Credentials for `repository`: the referenced Secrets from `secrets_dir`, else (when
// `use_env`) AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else anonymous when
// the repository references no Secret. An error names what was looked for.
Result<S3Credentials> file_or_env_credentials(
    const std::optional<model::SecretKeyRef>& access_key_ref,
    const std::optional<model::SecretKeyRef>& secret_key_ref,
    const std::optional<model::SecretKeyRef>& session_token_ref,
    const std::optional<std::filesystem::path>& secrets_dir, bool use_env);

S3Endpoint endpoint_of(const S3Repository& repository);

// `repository` in Argo's form ({"s3": {...}}, JSON, which the parser above reads as YAML), without
// its Secret references: for handing a resolved repository on with its credentials beside it.
std::string format_repository(const S3Repository& repository);

}  // namespace wwp::artifacts
