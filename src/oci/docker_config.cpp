#include "oci/docker_config.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/base64.hpp"
#include "oci/reference.hpp"

namespace wwp::oci {

using Json = nlohmann::json;

namespace {

Result<Credentials> parse_entry(const Json& entry, const std::string& where) {
  if (!entry.is_object()) return failed(where + ": expected an object");
  Credentials credentials;
  auto text_field = [&](const char* key) -> Result<std::string> {
    auto it = entry.find(key);
    if (it == entry.end() || it->is_null()) return std::string();
    if (!it->is_string()) return failed(where + "." + key + ": expected a string");
    return it->get<std::string>();
  };
  auto auth = text_field("auth");
  if (!auth) return auth.error();
  auto username = text_field("username");
  if (!username) return username.error();
  auto password = text_field("password");
  if (!password) return password.error();
  auto identity = text_field("identitytoken");
  if (!identity) return identity.error();

  if (!auth->empty()) {
    auto decoded = base64_decode(*auth);
    if (!decoded) return failed(where + ".auth: not valid base64");
    const auto colon = decoded->find(':');
    if (colon == std::string::npos)
      return failed(where + ".auth: expected base64 of user:password");
    credentials.username = decoded->substr(0, colon);
    credentials.password = decoded->substr(colon + 1);
  }
  if (!username->empty()) credentials.username = *username;
  if (!password->empty()) credentials.password = *password;
  credentials.identity_token = *identity;
  return credentials;
}

}  // namespace

Result<CredentialStore> CredentialStore::from_docker_config(std::string_view text,
                                                            std::string_view origin) {
  const std::string where(origin);
  Json json = Json::parse(text, nullptr, false);
  if (json.is_discarded()) return failed("docker config " + where + ": not valid JSON");
  if (!json.is_object()) return failed("docker config " + where + ": expected a JSON object");

  const Json* auths = &json;
  std::string path = where;
  if (auto it = json.find("auths"); it != json.end()) {
    if (!it->is_object()) return failed("docker config " + where + ": auths: expected an object");
    auths = &*it;
    path += ": auths";
  } else {
    // Legacy .dockercfg: hosts at the top level. Skip the keys of a modern config without auths.
    path += ":";
  }
  CredentialStore store;
  for (const auto& [host, entry] : auths->items()) {
    if (auths == &json && !entry.is_object()) continue;
    if (auths == &json &&
        (host == "credsStore" || host == "credHelpers" || host == "HttpHeaders")) {
      continue;
    }
    auto credentials = parse_entry(entry, "docker config " + path + "[\"" + host + "\"]");
    if (!credentials) return credentials.error();
    store.add(host, std::move(*credentials));
  }
  return store;
}

Result<CredentialStore> CredentialStore::from_docker_config_file(
    const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return failed("cannot read docker config " + file.string());
  std::ostringstream text;
  text << in.rdbuf();
  return from_docker_config(text.str(), file.string());
}

void CredentialStore::add(std::string_view registry, Credentials credentials) {
  by_registry_[normalize_registry_host(registry)] = std::move(credentials);
}

void CredentialStore::set_default(Credentials credentials, std::vector<std::string> hosts) {
  default_ = std::move(credentials);
  default_hosts_.clear();
  for (const std::string& host : hosts) default_hosts_.push_back(normalize_registry_host(host));
}

std::optional<Credentials> CredentialStore::find(std::string_view registry) const {
  const std::string host = normalize_registry_host(registry);
  if (auto it = by_registry_.find(host); it != by_registry_.end()) return it->second;
  if (!default_) return std::nullopt;
  if (default_hosts_.empty()) return default_;
  for (const std::string& allowed : default_hosts_) {
    if (allowed == host) return default_;
  }
  return std::nullopt;
}

}  // namespace wwp::oci
