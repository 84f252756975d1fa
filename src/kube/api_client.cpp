#include "kube/api_client.hpp"

#include <cstdlib>

#include "common/deadline.hpp"
#include "common/file_bytes.hpp"
#include "common/text.hpp"

namespace wwp::kube {

Result<ApiClient> ApiClient::create(ApiOptions options) {
  if (options.api_server.empty()) {
    const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
    const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
    if (host == nullptr || *host == '\0')
      return invalid("no Kubernetes API: KUBERNETES_SERVICE_HOST is not set (not in a pod?)");
    std::string h = host;
    if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6
    options.api_server =
        "https://" + h + ":" + (port != nullptr && *port != '\0' ? std::string(port) : "443");
  }
  while (!options.api_server.empty() && options.api_server.back() == '/')
    options.api_server.pop_back();
  std::error_code ec;
  if (!options.transport.ca_file && !options.ca_file.empty() &&
      std::filesystem::exists(options.ca_file, ec))
    options.transport.ca_file = options.ca_file;
  return ApiClient(std::move(options));
}

Result<Reply> ApiClient::call(const std::string& method, const std::string& path,
                              const std::optional<nlohmann::json>& body,
                              const std::string& content_type) const {
  net::Request request;
  request.method = method;
  request.url = options_.api_server + path;
  request.transport = options_.transport;
  request.headers.push_back("Accept: application/json, */*");
  std::error_code ec;
  if (!options_.token_file.empty() && std::filesystem::exists(options_.token_file, ec)) {
    auto token = read_file(options_.token_file, 64 * 1024);
    if (!token) return token.error().context("reading the Kubernetes token");
    if (auto t = trim(*token); !t.empty())
      request.headers.push_back("Authorization: Bearer " + std::string(t));
  }
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
  Reply reply;
  reply.status = outcome.response.status;
  reply.body = nlohmann::json::parse(outcome.response.body, nullptr, false);
  if (reply.body.is_discarded()) {
    reply.body = nullptr;
    reply.text = outcome.response.body;
  }
  if (reply.status == 429 || reply.status >= 500) {
    return transient(what + ": HTTP " + std::to_string(reply.status) + " " + status_message(reply));
  }
  return reply;
}

std::string status_message(const Reply& reply) {
  if (reply.body.is_object() && reply.body.contains("message") && reply.body["message"].is_string())
    return reply.body["message"].get<std::string>();
  return reply.text.substr(0, 200);
}

}  // namespace wwp::kube
