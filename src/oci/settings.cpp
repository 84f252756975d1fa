#include "oci/settings.hpp"

#include <cstdlib>

namespace wwp::oci {

namespace fs = std::filesystem;

Result<ClientOptions> client_options(const OciSettings& settings) {
  ClientOptions options;
  options.insecure_registries = settings.insecure_registries;
  options.ca_file = settings.ca_file;
  options.max_blob_bytes = settings.max_blob_bytes;
  if (settings.docker_config) {
    WWP_TRY_ASSIGN(options.credentials,
                   CredentialStore::from_docker_config_file(*settings.docker_config));
  }
  if (settings.username || settings.password) {
    options.credentials.set_default(
        Credentials{settings.username.value_or(""), settings.password.value_or(""), ""},
        settings.credential_hosts);
  }
  return options;
}

std::optional<fs::path> docker_config_from_environment(const GetEnv& getenv) {
  std::optional<std::string> dir;
  if (getenv) {
    dir = getenv("DOCKER_CONFIG");
  } else if (const char* value = std::getenv("DOCKER_CONFIG"); value != nullptr && *value) {
    dir = value;
  }
  if (!dir || dir->empty()) return std::nullopt;
  const fs::path file = fs::path(*dir) / "config.json";
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return std::nullopt;
  return file;
}

}  // namespace wwp::oci
