#include "artifacts/repository_source.hpp"

#include <yaml-cpp/yaml.h>

namespace wwp::artifacts {

namespace fs = std::filesystem;

namespace {

constexpr const char* kNamespaceConfigMap = "artifact-repositories";

std::string same_endpoint_key(const std::string& endpoint) {
  std::string host = endpoint;
  for (const char* scheme : {"https://", "http://"}) {
    if (host.starts_with(scheme)) host = host.substr(std::string_view(scheme).size());
  }
  while (!host.empty() && host.back() == '/') host.pop_back();
  return host;
}

}  // namespace

RepositorySource::RepositorySource(RepositorySourceOptions options) : options_(std::move(options)) {
  if (options_.discover_from_kubernetes) {
    kubernetes_ = std::make_unique<KubernetesClient>(options_.kubernetes);
  }
}

Result<std::shared_ptr<RepositorySource>> RepositorySource::create(
    RepositorySourceOptions options) {
  std::shared_ptr<RepositorySource> source(new RepositorySource(std::move(options)));
  if (source->options_.config_file) {
    auto repository = source->from_file();
    if (!repository) return repository.error();
  }
  return source;
}

std::string RepositorySource::describe_sources() const {
  std::string text;
  if (options_.config_file) text += "file " + options_.config_file->string();
  if (options_.discover_from_kubernetes) {
    text += std::string(text.empty() ? "" : ", ") + "Kubernetes discovery";
  }
  return text.empty() ? "none" : text;
}

Result<std::optional<ArtifactRepository>> RepositorySource::from_file() {
  const fs::path& file = *options_.config_file;
  std::error_code ec;
  auto mtime = fs::last_write_time(file, ec);
  if (ec) {
    return failed("artifact repository configuration " + file.string() + ": " + ec.message());
  }
  std::lock_guard lock(mutex_);
  if (!file_repository_ || mtime != file_mtime_) {
    auto parsed = load_repository_file(file);
    if (!parsed) return parsed.error();
    file_repository_ = std::move(*parsed);
    file_mtime_ = mtime;
  }
  return std::optional<ArtifactRepository>(*file_repository_);
}

Result<std::optional<ArtifactRepository>> RepositorySource::discover(const std::string& ns_in) {
  const std::string ns = ns_in.empty() ? kubernetes_->own_namespace() : ns_in;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    auto it = discovered_.find(ns);
    if (it != discovered_.end() && now - it->second.at < options_.discovery_cache_ttl) {
      return it->second.repository;
    }
  }
  std::optional<ArtifactRepository> found;
  if (!ns.empty()) {
    auto config_map = kubernetes_->get_config_map(ns, kNamespaceConfigMap);
    if (!config_map) return config_map.error();
    if (*config_map) {
      const auto& cm = **config_map;
      const auto annotations = cm.value("metadata", nlohmann::json::object())
                                   .value("annotations", nlohmann::json::object());
      const std::string annotation(kDefaultRepositoryAnnotation);
      // Without the annotation Argo does not treat any entry as the default.
      if (annotations.contains(annotation) && annotations[annotation].is_string()) {
        const std::string key = annotations[annotation].get<std::string>();
        const auto data = cm.value("data", nlohmann::json::object());
        const std::string origin = "ConfigMap " + ns + "/" + kNamespaceConfigMap + " data." + key;
        if (!data.contains(key) || !data[key].is_string()) {
          return failed(origin + ": named by the " + annotation + " annotation but missing");
        }
        auto parsed = parse_repository_entry(data[key].get<std::string>(), origin);
        if (!parsed) return parsed.error();
        found = std::move(*parsed);
      }
    }
  }
  if (!found) {
    const std::string& controller_ns = kubernetes_->controller_namespace();
    const std::string& name = options_.kubernetes.controller_config_map;
    auto config_map = kubernetes_->get_config_map(controller_ns, name);
    if (!config_map) return config_map.error();
    if (*config_map) {
      const auto data = (**config_map).value("data", nlohmann::json::object());
      const std::string origin = "ConfigMap " + controller_ns + "/" + name;
      if (data.contains("artifactRepository") && data["artifactRepository"].is_string()) {
        auto parsed = parse_repository_entry(data["artifactRepository"].get<std::string>(),
                                             origin + " data.artifactRepository");
        if (!parsed) return parsed.error();
        found = std::move(*parsed);
      } else if (data.contains("config") && data["config"].is_string()) {
        // The older layout: one `config` key holding the whole controller configuration.
        try {
          YAML::Node config = YAML::Load(data["config"].get<std::string>());
          if (config.IsMap() && config["artifactRepository"]) {
            YAML::Emitter out;
            out << config["artifactRepository"];
            auto parsed = parse_repository_entry(out.c_str(), origin + " data.config");
            if (!parsed) return parsed.error();
            found = std::move(*parsed);
          }
        } catch (const std::exception& e) {
          return invalid(origin + " data.config: " + e.what());
        }
      }
    }
  }
  std::lock_guard lock(mutex_);
  discovered_[ns] = Cached{now, found};
  return found;
}

Result<S3Credentials> RepositorySource::resolve_credentials(
    const std::optional<model::SecretKeyRef>& access,
    const std::optional<model::SecretKeyRef>& secret,
    const std::optional<model::SecretKeyRef>& token, const std::string& ns) {
  // Mounted files first: they need no API access and work without discovery.
  if (options_.secrets_dir && access && secret) {
    auto from_files = file_or_env_credentials(access, secret, token, options_.secrets_dir, false);
    if (from_files) return from_files;
  }
  if (kubernetes_ && access && secret && !access->name.empty() && !secret->name.empty()) {
    const std::string secret_ns = ns.empty() ? kubernetes_->own_namespace() : ns;
    auto lookup = [&](const model::SecretKeyRef& ref) -> Result<std::optional<std::string>> {
      const std::string cache_key = secret_ns + "/" + ref.name + "/" + ref.key;
      const auto now = std::chrono::steady_clock::now();
      {
        std::lock_guard lock(mutex_);
        auto it = secret_cache_.find(cache_key);
        if (it != secret_cache_.end() && now - it->second.first < options_.discovery_cache_ttl) {
          return it->second.second;
        }
      }
      auto value = kubernetes_->secret_value(secret_ns, ref);
      if (!value) return value.error();
      std::lock_guard lock(mutex_);
      secret_cache_[cache_key] = {now, *value};
      return *value;
    };
    auto access_value = lookup(*access);
    if (!access_value) return access_value.error();
    auto secret_value = lookup(*secret);
    if (!secret_value) return secret_value.error();
    if (*access_value && *secret_value) {
      S3Credentials credentials{**access_value, **secret_value, ""};
      if (token && !token->name.empty()) {
        auto token_value = lookup(*token);
        if (!token_value) return token_value.error();
        credentials.session_token = token_value->value_or("");
      }
      return credentials;
    }
  }
  return file_or_env_credentials(access, secret, token, options_.secrets_dir,
                                 options_.use_env_credentials);
}

Result<std::optional<ResolvedRepository>> RepositorySource::default_repository(
    const std::string& ns) {
  std::optional<ArtifactRepository> repository;
  if (options_.config_file) {
    auto from = from_file();
    if (!from) return from.error();
    repository = std::move(*from);
  } else if (kubernetes_) {
    auto found = discover(ns);
    if (!found) return found.error();
    repository = std::move(*found);
  }
  if (!repository) return std::optional<ResolvedRepository>{};
  if (!repository->s3) {
    return failed(repository->origin + ": the " + repository->unsupported_kind +
                  " artifact repository is not supported by the wasm plugin (only s3)");
  }
  const S3Repository& s3 = *repository->s3;
  auto credentials =
      resolve_credentials(s3.access_key_secret, s3.secret_key_secret, s3.session_token_secret, ns);
  if (!credentials) return credentials.error().context(repository->origin);
  return std::optional<ResolvedRepository>(
      ResolvedRepository{s3, *credentials, repository->origin});
}

Result<S3Credentials> RepositorySource::credentials_for(
    const model::S3Location& location, const std::string& ns,
    const std::optional<ResolvedRepository>& default_repository) {
  if (location.access_key_secret && location.secret_key_secret) {
    return resolve_credentials(location.access_key_secret, location.secret_key_secret, std::nullopt,
                               ns);
  }
  if (default_repository &&
      (location.endpoint.empty() || same_endpoint_key(location.endpoint) ==
                                        same_endpoint_key(default_repository->s3.endpoint))) {
    return default_repository->credentials;
  }
  return file_or_env_credentials(std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                                 options_.use_env_credentials);
}

}  // namespace wwp::artifacts
