// Real peers for the OCI tests: Debian's docker-registry (CNCF distribution 2.8) started on a
// free loopback port with a generated config, and a token service for its `auth: token` mode.
#pragma once

#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "support.hpp"

namespace wwp::oci::test {

// Issues registry tokens (JWT, RS256, x5c header) the way distribution's token auth expects.
// Anonymous callers get pull; `user`/`password` (Basic) get what they ask for.
class TokenService {
 public:
  TokenService(std::filesystem::path signing_cert, std::filesystem::path signing_key,
               std::string user, std::string password);
  ~TokenService();

  int port() const { return port_; }
  std::string realm() const { return "http://127.0.0.1:" + std::to_string(port_) + "/token"; }
  int requests() const { return requests_.load(); }
  static constexpr const char* kService = "wwp-test-registry";
  static constexpr const char* kIssuer = "wwp-test-issuer";

 private:
  std::string sign(const std::string& subject, const std::string& repository,
                   const std::vector<std::string>& actions) const;

  std::string cert_der_base64_;
  std::string signing_key_pem_;
  std::string user_, password_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> requests_{0};
};

struct RegistryConfig {
  enum class Auth { None, Htpasswd, Token };
  Auth auth = Auth::None;
  std::string user = "alice";
  std::string password = "s3cret-Passw0rd";
  std::string token_realm;                  // Token
  std::filesystem::path token_root_bundle;  // Token
  std::optional<std::filesystem::path> tls_cert, tls_key;
};

class Registry {
 public:
  explicit Registry(RegistryConfig config = {});
  ~Registry();

  void start();
  void stop();
  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& storage() const { return storage_; }
  // Where the registry keeps a blob's bytes (to corrupt them).
  std::filesystem::path blob_data(const std::string& hex) const;
  std::string log() const;

 private:
  RegistryConfig config_;
  TempDir dir_;
  std::filesystem::path storage_;
  std::filesystem::path config_file_;
  int port_;
  ChildProcess process_;
};

}  // namespace wwp::oci::test
