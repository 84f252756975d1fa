// Registry authentication as the distribution spec describes it: a request answered 401 carries a
// challenge; Basic means sending credentials, Bearer means fetching a token from the realm
// (anonymously or with credentials) for the scope the request needs. Tokens are cached per
// registry and scope until shortly before they expire.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/deadline.hpp"
#include "common/result.hpp"
#include "net/http.hpp"
#include "oci/docker_config.hpp"

namespace wwp::oci {

struct AuthOptions {
  CredentialStore credentials;
  net::TransportOptions transport;  // TLS (CA file), proxy, timeouts
  std::string user_agent;
  // Whether this host[:port] (a token realm, or the registry itself) was opted into plain HTTP.
  std::function<bool(std::string_view host)> plain_http_allowed;
};

class Authenticator {
 public:
  Authenticator(net::Client& http, AuthOptions options);

  // The Authorization header value to send without waiting for a challenge, when one is known.
  std::optional<std::string> cached(const std::string& registry, const std::string& scope);

  // Answers a 401 from `registry` for a request needing `scope` ("repository:a/b:pull"); returns
  // the Authorization header value to retry with. Errors never contain credentials or tokens.
  Result<std::string> respond(const std::string& registry, const std::string& scope,
                              const net::Response& unauthorized, Deadline deadline);

 private:
  struct Entry {
    std::string header;
    std::chrono::steady_clock::time_point expires;
  };
  Result<std::string> fetch_token(const std::string& registry, const std::string& scope,
                                  const std::map<std::string, std::string>& challenge,
                                  Deadline deadline);

  net::Client& http_;
  AuthOptions options_;
  std::mutex mutex_;
  std::map<std::string, Entry> tokens_;       // registry + " " + scope
  std::map<std::string, std::string> basic_;  // registries known to want Basic
};

}  // namespace wwp::oci
