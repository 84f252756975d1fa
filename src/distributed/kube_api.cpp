#include "distributed/kube_api.hpp"

#include <cstdlib>

#include "common/deadline.hpp"
#include "common/file_bytes.hpp"
#include "common/text.hpp"

namespace wwp::distributed {

Result<KubeApi> KubeApi::create(KubeApiOptions options) {
  if (options.api_server.empty()) {
    const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
    const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
    if (host == nullptr || *host == '\0') {
      return invalid(
          "--mode distributed: no Kubernetes API (KUBERNETES_SERVICE_HOST is not set and "
          "--kube-api is not given)");
    }
    std::string h = host;
    if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6
    options.api_server =
        "https://" + h + ":" + (port != nullptr && *port != '\0' ? std::string(port) : "443");
  }
  while (!options.api_server.empty() && options.api_server.back() == '/')
    options.api_server.pop_back();
  return KubeApi(std::move(options));
}

Result<KubeReply> KubeApi::call(const std::string& method, const std::string& path,
                                const std::optional<model::Json>& body,
                                const std::string& content_type) const {
  net::Request request;
  request.method = method;
  request.url = options_.api_server + path;
  request.headers.push_back("Accept: application/json, */*");
  std::error_code ec;
  if (!options_.token_file.empty() && std::filesystem::exists(options_.token_file, ec)) {
    auto token = read_file(options_.token_file, 64 * 1024);
    if (!token) return token.error().context("reading the Kubernetes token");
    request.headers.push_back("Authorization: Bearer " + std::string(trim(*token)));
  }
  if (!options_.ca_file.empty() && std::filesystem::exists(options_.ca_file, ec))
    request.transport.ca_file = options_.ca_file;
  if (body) {
    request.headers.push_back("Content-Type: " + content_type);
    request.body = net::Body::from_string(body->dump());
  }
  request.deadline = deadline_in(options_.call_timeout);
  const net::Outcome outcome = net::default_client().perform(request);
  const std::string what = "Kubernetes API " + method + " " + path;
  if (!outcome.ok()) {
    Error error = failed(what + ": " + outcome.message);
    if (outcome.transient()) error.kind = ErrorKind::Transient;
    return error;
  }
  KubeReply reply;
  reply.status = outcome.response.status;
  reply.body = model::Json::parse(outcome.response.body, nullptr, false);
  if (reply.body.is_discarded()) {
    reply.body = nullptr;
    reply.text = outcome.response.body;
  }
  if (reply.status == 429 || reply.status >= 500) {
    return transient(what + ": HTTP " + std::to_string(reply.status) + " " + status_message(reply));
  }
  return reply;
}

std::string status_message(const KubeReply& reply) {
  if (reply.body.is_object() && reply.body.contains("message") && reply.body["message"].is_string())
    return reply.body["message"].get<std::string>();
  return reply.text.substr(0, 200);
}

}  // namespace wwp::distributed
