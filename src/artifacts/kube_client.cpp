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
  if (options_.api_server.empty()) {
    std::string host = env_or("KUBERNETES_SERVICE_HOST", "");
    std::string port = env_or("KUBERNETES_SERVICE_PORT", "443");
    if (!host.empty()) {
      // An IPv6 service address needs brackets in a URL.
      if (host.find(':') != std::string::npos) host = "[" + host + "]";
      options_.api_server = "https://" + host + ":" + port;
    }
  }
  while (!options_.api_server.empty() && options_.api_server.back() == '/')
    options_.api_server.pop_back();
  if (options_.controller_namespace.empty()) {
    options_.controller_namespace = env_or("ARGO_NAMESPACE", "argo");
  }
  const fs::path ca = options_.service_account_dir / "ca.crt";
  std::error_code ec;
  if (!options_.transfer.ca_file && fs::exists(ca, ec)) options_.transfer.ca_file = ca.string();
}

std::string KubernetesClient::own_namespace() const {
  return read_text(options_.service_account_dir / "namespace");
}

Result<std::optional<nlohmann::json>> KubernetesClient::get(const std::string& path,
                                                            const std::string& what) const {
  if (options_.api_server.empty()) {
    return failed(
        "Kubernetes discovery: KUBERNETES_SERVICE_HOST is not set (not running in a pod?)");
  }
  net::Request request;
  request.url = options_.api_server + path;
  request.transport = options_.transfer;
  request.headers.push_back("Accept: application/json");
  // Projected service-account tokens rotate, so the file is read for every request.
  const std::string token = read_text(options_.service_account_dir / "token");
  if (!token.empty()) request.headers.push_back("Authorization: Bearer " + token);

  using Answer = std::optional<nlohmann::json>;
  using Attempt = net::Attempt<Answer>;
  return net::with_retries<Answer>(options_.retry, kNoDeadline, [&]() -> Attempt {
    const net::Outcome outcome = net::default_client().perform(request);
    if (!outcome.ok()) {
      Error error = failed("Kubernetes API " + options_.api_server + ": " + outcome.message);
      return Attempt::fail(error, outcome.transient());
    }
    const long status = outcome.response.status;
    if (status == 404) return Attempt::done(Answer{});
    if (status == 401 || status == 403) {
      return Attempt::done(failed(
          "Kubernetes API: reading " + what + " was refused (HTTP " + std::to_string(status) +
          "); the plugin's service account needs get on configmaps and secrets"));
    }
    if (status < 200 || status >= 300) {
      Error error = failed("Kubernetes API: reading " + what + " failed with HTTP " +
                           std::to_string(status) + ": " + outcome.response.body.substr(0, 200));
      return Attempt::fail(error, outcome.transient());
    }
    auto json = nlohmann::json::parse(outcome.response.body, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
      return Attempt::done(failed("Kubernetes API: " + what + " is not a JSON object"));
    }
    return Attempt::done(Answer(std::move(json)));
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
