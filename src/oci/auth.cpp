#include "oci/auth.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/base64.hpp"
#include "net/retry.hpp"
#include "net/url.hpp"
#include "oci/www_authenticate.hpp"

namespace wwp::oci {

using Json = nlohmann::json;

namespace {

// Tokens are refreshed a little before the registry would reject them.
constexpr auto kExpirySlack = std::chrono::seconds(10);

std::string basic_header(const Credentials& credentials) {
  return "Basic " + base64_encode(credentials.username + ":" + credentials.password);
}

}  // namespace

Authenticator::Authenticator(net::Client& http, AuthOptions options)
    : http_(http), options_(std::move(options)) {}

std::optional<std::string> Authenticator::cached(const std::string& registry,
                                                 const std::string& scope) {
  std::lock_guard lock(mutex_);
  if (auto it = basic_.find(registry); it != basic_.end()) return it->second;
  auto it = tokens_.find(registry + " " + scope);
  if (it == tokens_.end()) return std::nullopt;
  if (std::chrono::steady_clock::now() >= it->second.expires) {
    tokens_.erase(it);
    return std::nullopt;
  }
  return it->second.header;
}

Result<std::string> Authenticator::respond(const std::string& registry, const std::string& scope,
                                           const net::Response& unauthorized, Deadline deadline) {
  const auto header = unauthorized.header("www-authenticate");
  if (!header) {
    return failed("registry " + registry + " answered 401 without a WWW-Authenticate challenge");
  }
  const std::vector<Challenge> challenges = parse_www_authenticate(*header);
  const Challenge* bearer = nullptr;
  const Challenge* basic = nullptr;
  for (const Challenge& challenge : challenges) {
    if (challenge.scheme == "bearer" && !bearer) bearer = &challenge;
    if (challenge.scheme == "basic" && !basic) basic = &challenge;
  }
  if (bearer) return fetch_token(registry, scope, bearer->params, deadline);
  if (basic) {
    const auto credentials = options_.credentials.find(registry);
    if (!credentials || credentials->username.empty()) {
      return failed("registry " + registry +
                    " requires credentials and none are configured for it");
    }
    std::string value = basic_header(*credentials);
    std::lock_guard lock(mutex_);
    basic_[registry] = value;
    return value;
  }
  return failed("registry " + registry + " asks for an unsupported authentication scheme");
}

Result<std::string> Authenticator::fetch_token(const std::string& registry,
                                               const std::string& scope,
                                               const std::map<std::string, std::string>& params,
                                               Deadline deadline) {
  auto param = [&](const char* name) -> std::string {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  };
  const std::string realm = param("realm");
  const std::string realm_host = net::url_host(realm);
  if (realm_host.empty()) {
    return failed("registry " + registry + " sent a Bearer challenge without a usable realm");
  }
  // A plain-HTTP realm is acceptable where plain HTTP was opted into: for the realm's host, or
  // for the registry itself (whose traffic is then in the clear anyway).
  const bool plain = realm.starts_with("http://");
  const auto allowed = [&](std::string_view host) {
    return options_.plain_http_allowed && options_.plain_http_allowed(host);
  };
  if (plain && !allowed(realm_host) && !allowed(registry)) {
    return failed("registry " + registry + " names a plain-HTTP token service (" + realm_host +
                  "); list that host in the insecure registries to allow it");
  }
  // The challenge names the scope the registry wants; fall back to ours.
  const std::string wanted_scope = param("scope").empty() ? scope : param("scope");
  const std::string service = param("service");
  const auto credentials = options_.credentials.find(registry);

  net::Request request;
  request.https_only = !plain;
  request.transport = options_.transport;
  request.max_body_bytes = 1u << 20;
  request.max_redirects = 10;
  request.deadline = std::min(
      deadline, deadline_in(std::clamp(remaining(deadline), std::chrono::milliseconds(1000),
                                       std::chrono::milliseconds(30000))));
  request.headers.push_back("User-Agent: " + options_.user_agent);
  if (credentials && !credentials->identity_token.empty()) {
    // OAuth2 refresh-token grant (what `docker login` stores as identitytoken).
    request.method = "POST";
    request.url = realm;
    request.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    request.body = net::Body::from_string(
        "grant_type=refresh_token&client_id=wasm-workflows-plugin&service=" +
        net::percent_encode(service) + "&scope=" + net::percent_encode(wanted_scope) +
        "&refresh_token=" + net::percent_encode(credentials->identity_token));
  } else {
    request.url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
    request.url += "service=" + net::percent_encode(service);
    if (!wanted_scope.empty()) request.url += "&scope=" + net::percent_encode(wanted_scope);
    if (credentials && !credentials->username.empty()) {
      request.headers.push_back("Authorization: " + basic_header(*credentials));
    }
  }
  const bool with_credentials = credentials.has_value();

  const net::Outcome result = http_.perform(request);
  if (!result.ok()) {
    const std::string message = "token service " + realm_host + " for registry " + registry +
                                " unreachable: " + result.message;
    return result.transient() ? transient(message) : failed(message);
  }
  const long status = result.response.status;
  if (status == 401 || status == 403) {
    return failed(with_credentials
                      ? "registry " + registry + " rejected the configured credentials"
                      : "registry " + registry + " denies anonymous access; configure credentials");
  }
  if (net::transient_status(status)) {
    return transient("token service " + realm_host + " for registry " + registry +
                     " answered HTTP " + std::to_string(status));
  }
  if (status != 200) {
    return failed("token service " + realm_host + " for registry " + registry + " answered HTTP " +
                  std::to_string(status));
  }
  Json body = Json::parse(result.response.body, nullptr, false);
  std::string token;
  if (body.is_object()) {
    for (const char* key : {"token", "access_token"}) {
      if (auto it = body.find(key);
          it != body.end() && it->is_string() && !it->get<std::string>().empty()) {
        token = it->get<std::string>();
        break;
      }
    }
  }
  if (token.empty()) {
    return failed("token service " + realm_host + " for registry " + registry +
                  " returned no token");
  }
  // The spec's default lifetime is 60 s.
  long lifetime = 60;
  if (auto it = body.find("expires_in"); it != body.end() && it->is_number_integer()) {
    lifetime = std::max(it->get<long>(), 0L);
  }
  std::string header = "Bearer " + token;
  {
    std::lock_guard lock(mutex_);
    tokens_[registry + " " + scope] = {
        header, std::chrono::steady_clock::now() + std::chrono::seconds(lifetime) - kExpirySlack};
  }
  spdlog::debug("oci: token for {} scope {} ({} s)", registry, wanted_scope, lifetime);
  return header;
}

}  // namespace wwp::oci
