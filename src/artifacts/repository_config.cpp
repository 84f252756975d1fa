#include "artifacts/repository_config.hpp"

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/text.hpp"

namespace wwp::artifacts {

namespace fs = std::filesystem;

namespace {

constexpr const char* kUnsupportedKinds[] = {"gcs",         "azure",       "oss", "hdfs",
                                             "artifactory", "huggingFace", "git", "http"};

Result<std::string> scalar(const YAML::Node& node, const char* key, const std::string& path) {
  const YAML::Node value = node[key];
  if (!value || value.IsNull()) return std::string();
  if (!value.IsScalar()) return invalid(path + "." + key + ": expected a string");
  return value.Scalar();
}

Result<bool> boolean(const YAML::Node& node, const char* key, const std::string& path,
                     bool fallback) {
  const YAML::Node value = node[key];
  if (!value || value.IsNull()) return fallback;
  const std::string text = value.IsScalar() ? value.Scalar() : "";
  if (text == "true" || text == "True") return true;
  if (text == "false" || text == "False") return false;
  return invalid(path + "." + key + ": expected true or false");
}

Result<std::optional<model::SecretKeyRef>> secret_ref(const YAML::Node& node, const char* key,
                                                      const std::string& path) {
  const YAML::Node value = node[key];
  if (!value || value.IsNull()) return std::optional<model::SecretKeyRef>();
  const std::string where = path + "." + key;
  if (!value.IsMap()) return invalid(where + ": expected {name, key}");
  model::SecretKeyRef ref;
  WWP_TRY_ASSIGN(ref.name, scalar(value, "name", where));
  WWP_TRY_ASSIGN(ref.key, scalar(value, "key", where));
  if (ref.key.empty()) return invalid(where + ".key: is required");
  return std::optional<model::SecretKeyRef>(std::move(ref));
}

Result<S3Addressing> addressing(const YAML::Node& node, const std::string& path) {
  // Newer Argo spells it addressingStyle; pathStyleEndpoint is accepted for older configurations.
  if (node["pathStyleEndpoint"]) {
    WWP_TRY_ASSIGN(const bool path_style, boolean(node, "pathStyleEndpoint", path, false));
    return path_style ? S3Addressing::Path : S3Addressing::VirtualHost;
  }
  WWP_TRY_ASSIGN(const std::string style, scalar(node, "addressingStyle", path));
  if (style == "path") return S3Addressing::Path;
  if (style == "virtual-hosted") return S3Addressing::VirtualHost;
  if (!style.empty() && style != "auto")
    return invalid(path + ".addressingStyle: expected path, virtual-hosted or auto");
  return S3Addressing::Auto;
}

Result<S3Repository> parse_s3(const YAML::Node& node, const std::string& path) {
  if (!node.IsMap()) return invalid(path + ": expected a map");
  S3Repository s3;
  WWP_TRY_ASSIGN(s3.endpoint, scalar(node, "endpoint", path));
  WWP_TRY_ASSIGN(s3.bucket, scalar(node, "bucket", path));
  WWP_TRY_ASSIGN(s3.region, scalar(node, "region", path));
  WWP_TRY_ASSIGN(s3.insecure, boolean(node, "insecure", path, false));
  WWP_TRY_ASSIGN(s3.key_format, scalar(node, "keyFormat", path));
  WWP_TRY_ASSIGN(s3.key_prefix, scalar(node, "keyPrefix", path));
  WWP_TRY_ASSIGN(s3.access_key_secret, secret_ref(node, "accessKeySecret", path));
  WWP_TRY_ASSIGN(s3.secret_key_secret, secret_ref(node, "secretKeySecret", path));
  WWP_TRY_ASSIGN(s3.session_token_secret, secret_ref(node, "sessionTokenSecret", path));
  WWP_TRY_ASSIGN(s3.addressing, addressing(node, path));
  if (s3.endpoint.empty()) {
    // Argo's own default when the endpoint is left out.
    s3.endpoint = "s3.amazonaws.com";
  }
  if (s3.bucket.empty()) return invalid(path + ".bucket: is required");
  return s3;
}

Result<ArtifactRepository> parse_repository_node(const YAML::Node& node, const std::string& path) {
  ArtifactRepository repository;
  if (!node.IsMap()) return invalid(path + ": expected a map");
  if (node["s3"] && !node["s3"].IsNull()) {
    WWP_TRY_ASSIGN(repository.s3, parse_s3(node["s3"], path.empty() ? "s3" : path + ".s3"));
    return repository;
  }
  for (const char* kind : kUnsupportedKinds) {
    if (node[kind] && !node[kind].IsNull()) {
      repository.unsupported_kind = kind;
      return repository;
    }
  }
  return invalid((path.empty() ? std::string("document") : path) +
                 ": no s3 artifact repository in it");
}

// A scalar's text, or "" for anything else (a map where a name was expected).
std::string scalar_text(const YAML::Node& node) {
  return node && node.IsScalar() ? node.Scalar() : "";
}

Result<ArtifactRepository> parse_text(std::string_view yaml, std::string_view origin, int depth);

// The ConfigMap manifest forms. Data values are YAML documents of their own.
Result<ArtifactRepository> parse_config_map(const YAML::Node& root, std::string_view origin,
                                            int depth) {
  const YAML::Node data = root["data"];
  if (!data || !data.IsMap()) return invalid(std::string(origin) + ": the ConfigMap has no data");
  std::string chosen;
  const YAML::Node metadata = root["metadata"];
  const YAML::Node annotations = metadata.IsMap() ? metadata["annotations"] : YAML::Node();
  if (annotations && annotations.IsMap() &&
      annotations[std::string(kDefaultRepositoryAnnotation)]) {
    chosen = scalar_text(annotations[std::string(kDefaultRepositoryAnnotation)]);
    if (chosen.empty() || !data[chosen]) {
      return invalid(std::string(origin) + ": the default-artifact-repository annotation names " +
                     chosen + ", which is not a data key");
    }
  } else if (data["artifactRepository"]) {
    chosen = "artifactRepository";
  } else if (data["config"]) {
    chosen = "config";
  } else if (data.size() == 1) {
    chosen = scalar_text(data.begin()->first);
  } else {
    return invalid(std::string(origin) +
                   ": cannot tell which entry is the default artifact repository (annotate the "
                   "ConfigMap with " +
                   std::string(kDefaultRepositoryAnnotation) + ")");
  }
  const YAML::Node entry = data[chosen];
  if (!entry.IsScalar()) {
    return invalid(std::string(origin) + " data." + chosen +
                   ": expected a YAML document (a string)");
  }
  return parse_text(entry.Scalar(), std::string(origin) + " data." + chosen, depth + 1);
}

Result<ArtifactRepository> parse_text(std::string_view yaml, std::string_view origin, int depth) {
  if (depth > 2) return invalid(std::string(origin) + ": nested too deeply");
  // yaml-cpp reports syntax errors by throwing; that is where its exceptions stop.
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return invalid(std::string(origin) + ": " + e.what());
  }
  if (!root || root.IsNull()) return invalid(std::string(origin) + ": empty document");
  if (!root.IsMap()) return invalid(std::string(origin) + ": expected a YAML map");
  if (scalar_text(root["kind"]) == "ConfigMap") return parse_config_map(root, origin, depth);
  auto repository = root["artifactRepository"]
                        ? parse_repository_node(root["artifactRepository"], "artifactRepository")
                        : parse_repository_node(root, "");
  if (!repository) return repository.error().context(origin);
  repository->origin = std::string(origin);
  return repository;
}

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

}  // namespace

Result<ArtifactRepository> parse_repository(std::string_view yaml, std::string_view origin) {
  return parse_text(yaml, origin, 0);
}

Result<ArtifactRepository> parse_repository_entry(std::string_view yaml, std::string_view origin) {
  return parse_text(yaml, origin, 1);
}

Result<ArtifactRepository> load_repository_file(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return failed("artifact repository configuration " + file.string() + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_repository(text.str(), "artifact repository configuration " + file.string());
}

Result<std::optional<std::string>> read_secret_file(const fs::path& dir,
                                                    const model::SecretKeyRef& ref) {
  std::vector<fs::path> candidates;
  if (!ref.name.empty()) candidates.push_back(dir / ref.name / ref.key);
  candidates.push_back(dir / ref.key);
  for (const auto& candidate : candidates) {
    std::error_code ec;
    if (!fs::is_regular_file(candidate, ec)) continue;
    std::ifstream in(candidate, std::ios::binary);
    if (!in) return failed("cannot read secret file " + candidate.string());
    std::ostringstream text;
    text << in.rdbuf();
    return std::optional<std::string>(std::string(trim(text.str())));
  }
  return std::optional<std::string>{};
}

Result<S3Credentials> file_or_env_credentials(
    const std::optional<model::SecretKeyRef>& access_key_ref,
    const std::optional<model::SecretKeyRef>& secret_key_ref,
    const std::optional<model::SecretKeyRef>& session_token_ref,
    const std::optional<fs::path>& secrets_dir, bool use_env) {
  auto describe = [](const model::SecretKeyRef& ref) {
    return (ref.name.empty() ? std::string() : ref.name + "/") + ref.key;
  };
  if (secrets_dir && access_key_ref && secret_key_ref) {
    auto access = read_secret_file(*secrets_dir, *access_key_ref);
    if (!access) return access.error();
    auto secret = read_secret_file(*secrets_dir, *secret_key_ref);
    if (!secret) return secret.error();
    if (*access && *secret) {
      S3Credentials credentials{**access, **secret, ""};
      if (session_token_ref) {
        auto token = read_secret_file(*secrets_dir, *session_token_ref);
        if (!token) return token.error();
        credentials.session_token = token->value_or("");
      }
      return credentials;
    }
  }
  if (use_env) {
    auto access = env("AWS_ACCESS_KEY_ID");
    auto secret = env("AWS_SECRET_ACCESS_KEY");
    if (access && secret)
      return S3Credentials{*access, *secret, env("AWS_SESSION_TOKEN").value_or("")};
  }
  if (!access_key_ref && !secret_key_ref) return S3Credentials{};  // anonymous
  std::string wanted = "secret " + describe(access_key_ref ? *access_key_ref : *secret_key_ref);
  std::string where = secrets_dir ? "not found under " + secrets_dir->string()
                                  : std::string("no secrets directory configured");
  return failed("artifact repository credentials: " + wanted + " " + where +
                (use_env ? " and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set" : ""));
}

S3Endpoint endpoint_of(const S3Repository& repository) {
  S3Endpoint endpoint;
  endpoint.host = repository.endpoint;
  endpoint.secure = !repository.insecure;
  endpoint.region = repository.region.empty() ? "us-east-1" : repository.region;
  endpoint.addressing = repository.addressing;
  return endpoint;
}

std::string format_repository(const S3Repository& repository) {
  nlohmann::json s3 = {{"endpoint", repository.endpoint},
                       {"bucket", repository.bucket},
                       {"insecure", repository.insecure}};
  if (!repository.region.empty()) s3["region"] = repository.region;
  if (!repository.key_format.empty()) s3["keyFormat"] = repository.key_format;
  if (!repository.key_prefix.empty()) s3["keyPrefix"] = repository.key_prefix;
  switch (repository.addressing) {
    case S3Addressing::Path:
      s3["addressingStyle"] = "path";
      break;
    case S3Addressing::VirtualHost:
      s3["addressingStyle"] = "virtual-hosted";
      break;
    case S3Addressing::Auto:
      break;
  }
  return nlohmann::json{{"s3", s3}}.dump();
}

}  // namespace wwp::artifacts
