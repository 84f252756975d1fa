// The Kubernetes API calls distributed mode makes (create, get, delete pods and secrets), over
// the one HTTP client. In a pod it uses the service-account token (re-read for every call: it
// rotates) and CA and KUBERNETES_SERVICE_HOST/PORT; tests point it at their API server.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "model/json_fields.hpp"
#include "net/http.hpp"

namespace wwp::distributed {

struct KubeApiOptions {
  std::string api_server;  // empty: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT
  std::filesystem::path token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::filesystem::path ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::chrono::milliseconds call_timeout{15000};
};

struct KubeReply {
  long status = 0;
  model::Json body;  // the decoded body; a Status object for errors, null when not JSON
  std::string text;  // the raw body when it was not JSON (pod logs)
};

class KubeApi {
 public:
  static Result<KubeApi> create(KubeApiOptions options);

  // One call. An unreachable API server, a timeout, 429 and 5xx are Transient errors (the agent
  // gets 503 and asks again); every other status is returned for the caller to judge.
  Result<KubeReply> call(const std::string& method, const std::string& path,
                         const std::optional<model::Json>& body = std::nullopt,
                         const std::string& content_type = "application/json") const;

  const std::string& api_server() const { return options_.api_server; }

 private:
  explicit KubeApi(KubeApiOptions options) : options_(std::move(options)) {}
  KubeApiOptions options_;
};

// "the API server said: <message>" from a Status body, for error messages.
std::string status_message(const KubeReply& reply);

}  // namespace wwp::distributed
