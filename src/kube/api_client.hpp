// The Kubernetes API, as the plugin talks to it: one call at a time over the one HTTP client
// (src/net), with the pod's service-account token (re-read for every call: projected tokens
// rotate) and CA, at https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT unless an address
// is given (tests). Used by artifact discovery (reads ConfigMaps and Secrets) and by distributed
// mode (creates, follows and deletes step pods).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "net/http.hpp"

namespace wwp::kube {

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

struct ApiOptions {
  std::string api_server;  // empty: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT
  std::filesystem::path token_file = std::filesystem::path(kServiceAccountDir) / "token";
  std::filesystem::path ca_file = std::filesystem::path(kServiceAccountDir) / "ca.crt";
  net::TransportOptions transport;  // connect and stall limits; ca_file is added when it exists
  std::chrono::milliseconds call_timeout{15000};
};

struct Reply {
  long status = 0;
  nlohmann::json body;  // the decoded body; a Status object for errors, null when not JSON
  std::string text;     // the raw body when it was not JSON (pod logs)
};

class ApiClient {
 public:
  // Fails when no address is given and KUBERNETES_SERVICE_HOST is not set (not in a pod).
  static Result<ApiClient> create(ApiOptions options);

  // One call. An unreachable API server, a timeout, 429 and 5xx are Transient errors; every
  // other status is returned for the caller to judge.
  Result<Reply> call(const std::string& method, const std::string& path,
                     const std::optional<nlohmann::json>& body = std::nullopt,
                     const std::string& content_type = "application/json") const;

  const std::string& api_server() const { return options_.api_server; }

 private:
  explicit ApiClient(ApiOptions options) : options_(std::move(options)) {}
  ApiOptions options_;
};

// The message of a Status body (or the start of a non-JSON body), for error messages.
std::string status_message(const Reply& reply);

}  // namespace wwp::kube
