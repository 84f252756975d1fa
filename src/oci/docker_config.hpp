// Registry credentials: from a Docker config file (what `docker login` writes, and the
// `.dockerconfigjson` key of a Kubernetes image-pull secret) and from flags or the environment.
// Nothing here ever puts a secret into an error message.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace wwp::oci {

struct Credentials {
  std::string username;
  std::string password;
  std::string
      identity_token;  // an OAuth2 refresh token (`identitytoken`), used instead of a password
};

class CredentialStore {
 public:
  // {"auths": {"host[:port]": {"auth": base64(user:pass)} | {"username", "password"} |
  // {"identitytoken"}}}. The legacy `.dockercfg` layout (hosts at the top level) is accepted.
  // `origin` names the source in error messages.
  static Result<CredentialStore> from_docker_config(std::string_view json, std::string_view origin);
  static Result<CredentialStore> from_docker_config_file(const std::filesystem::path& file);

  void add(std::string_view registry, Credentials credentials);
  // Credentials for registries the config does not name. With `hosts`, only for those (so a
  // template cannot make the plugin send them to a registry of the author's choice).
  void set_default(Credentials credentials, std::vector<std::string> hosts = {});

  // A config entry for the registry wins over the default credentials.
  std::optional<Credentials> find(std::string_view registry) const;
  std::size_t size() const { return by_registry_.size(); }

 private:
  std::map<std::string, Credentials> by_registry_;  // keys normalised by normalize_registry_host
  std::optional<Credentials> default_;
  std::vector<std::string> default_hosts_;
};

}  // namespace wwp::oci
