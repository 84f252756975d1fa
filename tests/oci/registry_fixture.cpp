#include "registry_fixture.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

#include "common/base64.hpp"

namespace wwp::oci::test {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

std::string base64url(std::string_view bytes) {
  std::string text = base64_encode(bytes);
  for (char& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!text.empty() && text.back() == '=') text.pop_back();
  return text;
}

std::string cert_der_base64(const fs::path& pem) {
  BIO* bio = BIO_new_file(pem.c_str(), "r");
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!cert) throw std::runtime_error("cannot read " + pem.string());
  unsigned char* der = nullptr;
  const int length = i2d_X509(cert, &der);
  std::string out = base64_encode(
      std::string_view(reinterpret_cast<char*>(der), static_cast<std::size_t>(length)));
  OPENSSL_free(der);
  X509_free(cert);
  return out;
}

}  // namespace

TokenService::TokenService(fs::path signing_cert, fs::path signing_key, std::string user,
                           std::string password)
    : cert_der_base64_(cert_der_base64(signing_cert)),
      signing_key_pem_(read_file(signing_key)),
      user_(std::move(user)),
      password_(std::move(password)) {
  server_.Get("/token", [this](const httplib::Request& request, httplib::Response& response) {
    ++requests_;
    bool authenticated = false;
    if (request.has_header("Authorization")) {
      const std::string expected = "Basic " + base64_encode(user_ + ":" + password_);
      if (request.get_header_value("Authorization") != expected) {
        response.status = 401;
        response.set_content(R"({"details":"invalid credentials"})", "application/json");
        return;
      }
      authenticated = true;
    }
    std::string repository;
    std::vector<std::string> actions;
    if (request.has_param("scope")) {
      const std::string scope = request.get_param_value("scope");
      const auto first = scope.find(':');
      const auto last = scope.rfind(':');
      if (first != std::string::npos && last > first) {
        repository = scope.substr(first + 1, last - first - 1);
        std::string list = scope.substr(last + 1);
        std::size_t start = 0;
        while (start <= list.size()) {
          const auto end = std::min(list.find(',', start), list.size());
          const std::string action = list.substr(start, end - start);
          if (action == "pull" || (authenticated && (action == "push" || action == "delete"))) {
            actions.push_back(action);
          }
          start = end + 1;
        }
      }
    }
    const std::string token = sign(authenticated ? user_ : "", repository, actions);
    response.set_content(
        Json{{"token", token}, {"access_token", token}, {"expires_in", 300}}.dump(),
        "application/json");
  });
  port_ = server_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

TokenService::~TokenService() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

std::string TokenService::sign(const std::string& subject, const std::string& repository,
                               const std::vector<std::string>& actions) const {
  const Json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"x5c", Json::array({cert_der_base64_})}};
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  Json access = Json::array();
  if (!repository.empty()) {
    access.push_back({{"type", "repository"}, {"name", repository}, {"actions", actions}});
  }
  const Json claims = {{"iss", kIssuer},
                       {"sub", subject},
                       {"aud", kService},
                       {"exp", now + 300},
                       {"nbf", now - 10},
                       {"iat", now},
                       {"jti", std::to_string(std::random_device{}())},
                       {"access", access}};
  const std::string signing_input = base64url(header.dump()) + "." + base64url(claims.dump());

  BIO* bio = BIO_new_mem_buf(signing_key_pem_.data(), static_cast<int>(signing_key_pem_.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  std::size_t length = 0;
  EVP_DigestSign(ctx, nullptr, &length,
                 reinterpret_cast<const unsigned char*>(signing_input.data()),
                 signing_input.size());
  std::string signature(length, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length,
                 reinterpret_cast<const unsigned char*>(signing_input.data()),
                 signing_input.size());
  signature.resize(length);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return signing_input + "." + base64url(signature);
}

Registry::Registry(RegistryConfig config)
    : config_(std::move(config)),
      storage_(dir_ / "storage"),
      config_file_(dir_ / "config.yml"),
      port_(free_port()) {
  std::string yaml =
      "version: 0.1\n"
      "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
      "storage:\n  filesystem:\n    rootdirectory: " +
      storage_.string() +
      "\n"
      "  delete:\n    enabled: true\n"
      "http:\n  addr: 127.0.0.1:" +
      std::to_string(port_) + "\n  secret: wwp-oci-test-secret\n";
  if (config_.tls_cert) {
    yaml += "  tls:\n    certificate: " + config_.tls_cert->string() +
            "\n    key: " + config_.tls_key->string() + "\n";
  }
  switch (config_.auth) {
    case RegistryConfig::Auth::None:
      break;
    case RegistryConfig::Auth::Htpasswd: {
      const CommandResult hash = run_command({"htpasswd", "-Bbn", config_.user, config_.password});
      if (hash.exit_code != 0) throw std::runtime_error("htpasswd failed: " + hash.output);
      const fs::path file = dir_ / "htpasswd";
      write_file(file, hash.output);
      yaml += "auth:\n  htpasswd:\n    realm: wwp-test\n    path: " + file.string() + "\n";
      break;
    }
    case RegistryConfig::Auth::Token:
      yaml += "auth:\n  token:\n    realm: " + config_.token_realm +
              "\n    service: " + TokenService::kService +
              "\n    issuer: " + TokenService::kIssuer +
              "\n    rootcertbundle: " + config_.token_root_bundle.string() + "\n";
      break;
  }
  write_file(config_file_, yaml);
  start();
}

Registry::~Registry() { stop(); }

void Registry::start() {
  process_ =
      ChildProcess({"docker-registry", "serve", config_file_.string()}, dir_ / "registry.log");
  if (!wait_for_port(port_, std::chrono::seconds(15))) {
    throw std::runtime_error("docker-registry did not start: " + log());
  }
}

void Registry::stop() { process_.stop(); }

fs::path Registry::blob_data(const std::string& hex) const {
  return storage_ / "docker/registry/v2/blobs/sha256" / hex.substr(0, 2) / hex / "data";
}

std::string Registry::log() const { return read_file(dir_ / "registry.log"); }

}  // namespace wwp::oci::test
