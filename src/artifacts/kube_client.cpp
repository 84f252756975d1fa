#include "artifacts/kube_client.hpp"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "common/base64.hpp"
#include "common/text.hpp"

namespace wwp::artifacts {

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "";
  std::ostringstream text;
  text << in.rdbuf();
  return std::string(trim_end(text.str()));
}

std::string env_or(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

}  // namespace

KubernetesClient::KubernetesClient(KubernetesOptions options) : options_(std::move(options)) {
  if (options_.controller_namespace.empty()) {
    options_.controller_namespace = env_or("ARGO_NAMESPACE", "argo");
  }
  kube::ApiOptions api;
  api.api_server = options_.api_server;
  api.token_file = options_.service_account_dir / "token";
  api.ca_file = options_.service_account_dir / "ca.crt";
  api.transport = options_.transfer;
  auto client = kube::ApiClient::create(std::move(api));
  if (client) {
    options_.api_server = client->api_server();
    api_.emplace(std::move(*client));
  } else {
    no_api_ = "Kubernetes discovery: " + client.error().message;
  }
}

std::string KubernetesClient::own_namespace() const {
  return read_text(options_.service_account_dir / "namespace");
}

Result<std::optional<nlohmann::json>> KubernetesClient::get(const std::string& path,
                                                            const std::string& what) const {
  if (!api_) return failed(no_api_);
  using Answer = std::optional<nlohmann::json>;
  using Attempt = net::Attempt<Answer>;
  return net::with_retries<Answer>(options_.retry, kNoDeadline, [&]() -> Attempt {
    auto reply = api_->call("GET", path);
    if (!reply) return Attempt::fail(reply.error(), reply.error().kind == ErrorKind::Transient);
    const long status = reply->status;
    if (status == 404) return Attempt::done(Answer{});
    if (status == 401 || status == 403) {
      return Attempt::done(failed(
          "Kubernetes API: reading " + what + " was refused (HTTP " + std::to_string(status) +
          "); the plugin's service account needs get on configmaps and secrets"));
    }
    if (status < 200 || status >= 300) {
      return Attempt::done(failed("Kubernetes API: reading " + what + " failed with HTTP " +
                                  std::to_string(status) + ": " + kube::status_message(*reply)));
    }
    if (!reply->body.is_object()) {
      return Attempt::done(failed("Kubernetes API: " + what + " is not a JSON object"));
    }
    return Attempt::done(Answer(std::move(reply->body)));
  });
}

Result<std::optional<nlohmann::json>> KubernetesClient::get_config_map(
    const std::string& ns, const std::string& name) const {
  return get("/api/v1/namespaces/" + ns + "/configmaps/" + name, "ConfigMap " + ns + "/" + name);
}

Result<std::optional<nlohmann::json>> KubernetesClient::get_secret(const std::string& ns,
                                                                   const std::string& name) const {
  return get("/api/v1/namespaces/" + ns + "/secrets/" + name, "Secret " + ns + "/" + name);
}

Result<std::optional<std::string>> KubernetesClient::secret_value(
    const std::string& ns, const model::SecretKeyRef& ref) const {
  auto secret = get_secret(ns, ref.name);
  if (!secret) return secret.error();
  if (!*secret) return std::optional<std::string>{};
  const auto& json = **secret;
  if (!json.contains("data") || !json["data"].is_object() || !json["data"].contains(ref.key) ||
      !json["data"][ref.key].is_string()) {
    return std::optional<std::string>{};
  }
  auto decoded = base64_decode(json["data"][ref.key].get<std::string>());
  if (!decoded)
    return failed("Secret " + ns + "/" + ref.name + " key " + ref.key + " is not valid base64");
  return std::optional<std::string>(std::string(trim_end(*decoded)));
}

}  // namespace wwp::artifacts
