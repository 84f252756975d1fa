// Just enough of the Kubernetes API to find the artifact repository the way Argo does: read a
// ConfigMap or a Secret with the pod's service-account token, through the plugin's one
// Kubernetes client (src/kube), with retries.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "kube/api_client.hpp"
#include "model/artifact.hpp"
#include "net/http.hpp"
#include "net/retry.hpp"

namespace wwp::artifacts {

struct KubernetesOptions {
  // Empty: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (the in-cluster address).
  std::string api_server;
  // token, ca.crt and namespace, as mounted into every pod.
  std::filesystem::path service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  // Where the workflow controller runs. Empty: $ARGO_NAMESPACE, else "argo".
  std::string controller_namespace;
  std::string controller_config_map = "workflow-controller-configmap";
  net::RetryPolicy retry{.max_attempts = 3};
  net::TransportOptions transfer;
};

class KubernetesClient {
 public:
  explicit KubernetesClient(KubernetesOptions options);

  // The object as JSON, nullopt when it does not exist (404). 403 is an error that mentions RBAC;
  // an unreachable API server is Transient.
  Result<std::optional<nlohmann::json>> get_config_map(const std::string& ns,
                                                       const std::string& name) const;
  Result<std::optional<nlohmann::json>> get_secret(const std::string& ns,
                                                   const std::string& name) const;

  // The decoded value of data[ref.key] in Secret ref.name; nullopt when the Secret or key is
  // absent.
  Result<std::optional<std::string>> secret_value(const std::string& ns,
                                                  const model::SecretKeyRef& ref) const;

  // The pod's own namespace (service-account `namespace` file), empty when unknown.
  std::string own_namespace() const;
  const std::string& controller_namespace() const { return options_.controller_namespace; }
  const KubernetesOptions& options() const { return options_; }

 private:
  Result<std::optional<nlohmann::json>> get(const std::string& path, const std::string& what) const;
  KubernetesOptions options_;
  // Absent outside a pod without an address; `get` then says why.
  std::optional<kube::ApiClient> api_;
  std::string no_api_;
};

}  // namespace wwp::artifacts
