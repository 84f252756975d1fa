// Argo's artifact repository formats, credentials from mounted Secrets and the environment, and
// discovery through a fake Kubernetes API server.
#include "artifacts/repository_config.hpp"
#include "common/base64.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <mutex>
#include <thread>

#include "artifacts/repository_source.hpp"
#include "test_support.hpp"

namespace wwp::artifacts::test {
namespace {

constexpr const char* kS3Entry = R"(s3:
  endpoint: minio.argo:9000
  bucket: my-bucket
  region: eu-west-1
  insecure: true
  keyFormat: "{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}"
  accessKeySecret:
    name: my-minio-cred
    key: accesskey
  secretKeySecret:
    name: my-minio-cred
    key: secretkey
)";

void expect_minio(const Result<ArtifactRepository>& parsed) {
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_TRUE(parsed->s3);
  const S3Repository& s3 = *parsed->s3;
  EXPECT_EQ(s3.endpoint, "minio.argo:9000");
  EXPECT_EQ(s3.bucket, "my-bucket");
  EXPECT_EQ(s3.region, "eu-west-1");
  EXPECT_TRUE(s3.insecure);
  EXPECT_EQ(s3.key_format, "{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}");
  ASSERT_TRUE(s3.access_key_secret);
  EXPECT_EQ(s3.access_key_secret->name, "my-minio-cred");
  EXPECT_EQ(s3.access_key_secret->key, "accesskey");
  ASSERT_TRUE(s3.secret_key_secret);
  EXPECT_EQ(s3.secret_key_secret->key, "secretkey");
}

TEST(RepositoryConfig, BareEntry) { expect_minio(parse_repository(kS3Entry, "test")); }

TEST(RepositoryConfig, WrappedInArtifactRepository) {
  std::string yaml = "artifactRepository:\n  archiveLogs: true\n";
  std::string entry = kS3Entry;
  for (std::size_t pos = 0; pos < entry.size();) {
    std::size_t end = entry.find('\n', pos);
    yaml += "  " + entry.substr(pos, end - pos) + "\n";
    pos = end + 1;
  }
  expect_minio(parse_repository(yaml, "test"));
}

TEST(RepositoryConfig, ControllerConfigMapManifest) {
  std::string yaml = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: workflow-controller-configmap
data:
  artifactRepository: |
)";
  std::string entry = kS3Entry;
  for (std::size_t pos = 0; pos < entry.size();) {
    std::size_t end = entry.find('\n', pos);
    yaml += "    " + entry.substr(pos, end - pos) + "\n";
    pos = end + 1;
  }
  expect_minio(parse_repository(yaml, "test"));
}

TEST(RepositoryConfig, ArtifactRepositoriesConfigMapUsesTheAnnotatedEntry) {
  std::string yaml = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: artifact-repositories
  annotations:
    workflows.argoproj.io/default-artifact-repository: default-v1
data:
  other: |
    s3: {bucket: wrong, endpoint: nowhere:1}
  default-v1: |
)";
  std::string entry = kS3Entry;
  for (std::size_t pos = 0; pos < entry.size();) {
    std::size_t end = entry.find('\n', pos);
    yaml += "    " + entry.substr(pos, end - pos) + "\n";
    pos = end + 1;
  }
  expect_minio(parse_repository(yaml, "test"));
}

TEST(RepositoryConfig, AddressingStyles) {
  auto path = parse_repository("s3: {bucket: b, endpoint: e, pathStyleEndpoint: true}", "t");
  ASSERT_TRUE(path) << path.error().message;
  EXPECT_EQ(path->s3->addressing, S3Addressing::Path);
  auto vhost =
      parse_repository("s3: {bucket: b, endpoint: e, addressingStyle: virtual-hosted}", "t");
  ASSERT_TRUE(vhost);
  EXPECT_EQ(vhost->s3->addressing, S3Addressing::VirtualHost);
  auto aws = parse_repository("s3: {bucket: b}", "t");
  ASSERT_TRUE(aws);
  EXPECT_EQ(aws->s3->endpoint, "s3.amazonaws.com");
  EXPECT_EQ(aws->s3->addressing, S3Addressing::Auto);
}

TEST(RepositoryConfig, ErrorsNameTheOriginAndField) {
  auto no_bucket = parse_repository("s3: {endpoint: e}", "file /etc/repo.yaml");
  ASSERT_FALSE(no_bucket);
  EXPECT_EQ(no_bucket.error().message, "file /etc/repo.yaml: s3.bucket: is required");
  auto bad_bool = parse_repository("s3: {bucket: b, insecure: maybe}", "f");
  ASSERT_FALSE(bad_bool);
  EXPECT_NE(bad_bool.error().message.find("s3.insecure"), std::string::npos);
  EXPECT_FALSE(parse_repository("not: [valid", "f"));
  EXPECT_FALSE(parse_repository("", "f"));
  auto gcs = parse_repository("gcs: {bucket: b}", "f");
  ASSERT_TRUE(gcs);
  EXPECT_FALSE(gcs->s3);
  EXPECT_EQ(gcs->unsupported_kind, "gcs");
}

TEST(RepositoryConfig, MissingFileFailsAtStartup) {
  RepositorySourceOptions options;
  options.config_file = "/nonexistent/repository.yaml";
  auto source = RepositorySource::create(options);
  ASSERT_FALSE(source);
  EXPECT_NE(source.error().message.find("/nonexistent/repository.yaml"), std::string::npos);
}

TEST(Credentials, FromMountedSecretsInBothLayouts) {
  ScratchDir dir;
  write_file(dir / "per-secret/my-minio-cred/accesskey", "AK\n");
  write_file(dir / "per-secret/my-minio-cred/secretkey", "SK");
  write_file(dir / "flat/accesskey", "AK2");
  write_file(dir / "flat/secretkey", "SK2\n");
  model::SecretKeyRef access{"my-minio-cred", "accesskey"};
  model::SecretKeyRef secret{"my-minio-cred", "secretkey"};
  auto nested = file_or_env_credentials(access, secret, std::nullopt, dir / "per-secret", false);
  ASSERT_TRUE(nested) << nested.error().message;
  EXPECT_EQ(nested->access_key, "AK");
  EXPECT_EQ(nested->secret_key, "SK");
  auto flat = file_or_env_credentials(access, secret, std::nullopt, dir / "flat", false);
  ASSERT_TRUE(flat) << flat.error().message;
  EXPECT_EQ(flat->access_key, "AK2");
  EXPECT_EQ(flat->secret_key, "SK2");
}

TEST(Credentials, FromTheEnvironmentAndClearErrors) {
  model::SecretKeyRef access{"cred", "accesskey"};
  model::SecretKeyRef secret{"cred", "secretkey"};
  ::setenv("AWS_ACCESS_KEY_ID", "ENVAK", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "ENVSK", 1);
  auto from_env = file_or_env_credentials(access, secret, std::nullopt, std::nullopt, true);
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ASSERT_TRUE(from_env) << from_env.error().message;
  EXPECT_EQ(from_env->access_key, "ENVAK");
  auto missing = file_or_env_credentials(access, secret, std::nullopt, "/nonexistent", true);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cred/accesskey"), std::string::npos)
      << missing.error().message;
  EXPECT_NE(missing.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
  auto anonymous =
      file_or_env_credentials(std::nullopt, std::nullopt, std::nullopt, std::nullopt, false);
  ASSERT_TRUE(anonymous);
  EXPECT_TRUE(anonymous->anonymous());
}

// ---- discovery against a fake API server ----

std::string base64(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

class FakeKubernetes {
 public:
  FakeKubernetes() {
    server_.Get(R"(/api/v1/namespaces/([^/]+)/(configmaps|secrets)/([^/]+))",
                [this](const httplib::Request& request, httplib::Response& response) {
                  std::lock_guard lock(mutex_);
                  requests.push_back(request.path);
                  if (request.get_header_value("Authorization") != "Bearer test-token") {
                    response.status = 401;
                    return;
                  }
                  auto it = objects.find(request.path);
                  if (it == objects.end()) {
                    response.status = 404;
                    response.set_content(R"({"kind":"Status","code":404})", "application/json");
                    return;
                  }
                  if (it->second.is_number()) {
                    response.status = it->second.get<int>();
                    return;
                  }
                  response.set_content(it->second.dump(), "application/json");
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    write_file(dir_ / "sa/token", "test-token\n");
    write_file(dir_ / "sa/namespace", "team-a");
  }
  ~FakeKubernetes() {
    server_.stop();
    thread_.join();
  }

  KubernetesOptions options() const {
    KubernetesOptions options;
    options.api_server = "http://127.0.0.1:" + std::to_string(port_);
    options.service_account_dir = dir_ / "sa";
    options.controller_namespace = "argo";
    options.retry.initial_backoff = std::chrono::milliseconds(10);
    return options;
  }

  std::map<std::string, nlohmann::json> objects;
  std::vector<std::string> requests;
  std::mutex mutex_;

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  ScratchDir dir_;
};

nlohmann::json config_map(const std::string& ns, const std::string& name, nlohmann::json data,
                          nlohmann::json annotations = nlohmann::json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"annotations", annotations}}},
          {"data", data}};
}

nlohmann::json secret(const std::string& ns, const std::string& name,
                      std::map<std::string, std::string> values) {
  nlohmann::json data = nlohmann::json::object();
  for (const auto& [k, v] : values) data[k] = base64(v);
  return {{"kind", "Secret"}, {"metadata", {{"name", name}, {"namespace", ns}}}, {"data", data}};
}

TEST(Discovery, NamespaceArtifactRepositoriesWithDefaultAnnotation) {
  FakeKubernetes api;
  api.objects["/api/v1/namespaces/team-a/configmaps/artifact-repositories"] =
      config_map("team-a", "artifact-repositories",
                 {{"my-repo", kS3Entry}, {"other", "s3: {bucket: x, endpoint: y}"}},
                 {{"workflows.argoproj.io/default-artifact-repository", "my-repo"}});
  api.objects["/api/v1/namespaces/team-a/secrets/my-minio-cred"] = secret(
      "team-a", "my-minio-cred", {{"accesskey", "AK-from-api"}, {"secretkey", "SK-from-api\n"}});
  RepositorySourceOptions options;
  options.discover_from_kubernetes = true;
  options.use_env_credentials = false;
  options.kubernetes = api.options();
  auto source = RepositorySource::create(options);
  ASSERT_TRUE(source) << source.error().message;
  auto repository = (*source)->default_repository("team-a");
  ASSERT_TRUE(repository) << repository.error().message;
  ASSERT_TRUE(*repository);
  EXPECT_EQ((*repository)->s3.bucket, "my-bucket");
  EXPECT_EQ((*repository)->credentials.access_key, "AK-from-api");
  EXPECT_EQ((*repository)->credentials.secret_key, "SK-from-api");
  EXPECT_NE((*repository)->origin.find("team-a/artifact-repositories"), std::string::npos);
  // Cached: a second step in the namespace does not ask again.
  const std::size_t asked = api.requests.size();
  ASSERT_TRUE((*source)->default_repository("team-a"));
  EXPECT_EQ(api.requests.size(), asked);
}

TEST(Discovery, FallsBackToTheControllerConfigMap) {
  FakeKubernetes api;
  // A namespace ConfigMap without the default annotation does not count, as in Argo.
  api.objects["/api/v1/namespaces/team-a/configmaps/artifact-repositories"] =
      config_map("team-a", "artifact-repositories", {{"my-repo", "s3: {bucket: x, endpoint: y}"}});
  api.objects["/api/v1/namespaces/argo/configmaps/workflow-controller-configmap"] =
      config_map("argo", "workflow-controller-configmap", {{"artifactRepository", kS3Entry}});
  api.objects["/api/v1/namespaces/team-a/secrets/my-minio-cred"] =
      secret("team-a", "my-minio-cred", {{"accesskey", "AK"}, {"secretkey", "SK"}});
  RepositorySourceOptions options;
  options.discover_from_kubernetes = true;
  options.kubernetes = api.options();
  auto source = RepositorySource::create(options);
  ASSERT_TRUE(source);
  // An empty namespace means the pod's own (service-account namespace file).
  auto repository = (*source)->default_repository("");
  ASSERT_TRUE(repository) << repository.error().message;
  ASSERT_TRUE(*repository);
  EXPECT_EQ((*repository)->s3.endpoint, "minio.argo:9000");
  EXPECT_EQ((*repository)->credentials.access_key, "AK");
}

TEST(Discovery, OlderControllerLayoutWithConfigKey) {
  FakeKubernetes api;
  std::string config = "containerRuntimeExecutor: emissary\nartifactRepository:\n";
  std::string entry = kS3Entry;
  for (std::size_t pos = 0; pos < entry.size();) {
    std::size_t end = entry.find('\n', pos);
    config += "  " + entry.substr(pos, end - pos) + "\n";
    pos = end + 1;
  }
  api.objects["/api/v1/namespaces/argo/configmaps/workflow-controller-configmap"] =
      config_map("argo", "workflow-controller-configmap", {{"config", config}});
  RepositorySourceOptions options;
  options.discover_from_kubernetes = true;
  options.use_env_credentials = false;
  options.kubernetes = api.options();
  auto source = RepositorySource::create(options);
  ASSERT_TRUE(source);
  auto repository = (*source)->default_repository("team-a");
  // The Secret is missing from the API and there is no other source: a clear error.
  ASSERT_FALSE(repository);
  EXPECT_NE(repository.error().message.find("my-minio-cred/accesskey"), std::string::npos)
      << repository.error().message;
}

TEST(Discovery, NothingConfiguredIsNoRepository) {
  FakeKubernetes api;
  RepositorySourceOptions options;
  options.discover_from_kubernetes = true;
  options.kubernetes = api.options();
  auto source = RepositorySource::create(options);
  ASSERT_TRUE(source);
  auto repository = (*source)->default_repository("team-a");
  ASSERT_TRUE(repository) << repository.error().message;
  EXPECT_FALSE(*repository);
}

TEST(Discovery, ForbiddenMentionsRbacAndDownIsTransient) {
  FakeKubernetes api;
  api.objects["/api/v1/namespaces/team-a/configmaps/artifact-repositories"] = 403;
  RepositorySourceOptions options;
  options.discover_from_kubernetes = true;
  options.kubernetes = api.options();
  auto source = RepositorySource::create(options);
  ASSERT_TRUE(source);
  auto forbidden = (*source)->default_repository("team-a");
  ASSERT_FALSE(forbidden);
  EXPECT_EQ(forbidden.error().kind, ErrorKind::Failed);
  EXPECT_NE(forbidden.error().message.find("service account"), std::string::npos);

  options.kubernetes.api_server = "http://127.0.0.1:" + std::to_string(free_port());
  auto down_source = RepositorySource::create(options);
  ASSERT_TRUE(down_source);
  auto down = (*down_source)->default_repository("team-a");
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().kind, ErrorKind::Transient) << down.error().message;
}

TEST(Base64, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(*base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(*base64_decode("aGVsbG8h"), "hello!");
  EXPECT_EQ(*base64_decode("aGk="), "hi");
  EXPECT_EQ(*base64_decode(""), "");
  EXPECT_FALSE(base64_decode("abc"));
}

}  // namespace
}  // namespace wwp::artifacts::test
