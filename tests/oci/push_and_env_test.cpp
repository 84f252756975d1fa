#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "oci/commands.hpp"
#include "oci/media_types.hpp"
#include "oci/push.hpp"
#include "oci/retry.hpp"
#include "support.hpp"

namespace wwp::oci {
namespace {

using Json = nlohmann::json;

TEST(PushArtifactTest, ShapeAndDeterminism) {
  const std::string wasm = test::fake_wasm(1000);
  PushOptions options;
  options.created = "2024-05-01T12:00:00Z";
  options.source = "https://github.com/example/tool";
  options.title = "tool.wasm";
  const Artifact a = build_artifact(wasm, options);
  const Artifact b = build_artifact(wasm, options);
  EXPECT_EQ(a.manifest_digest, b.manifest_digest);
  EXPECT_EQ(a.manifest_digest, modules::sha256_of(a.manifest));
  EXPECT_EQ(a.layer_digest, modules::sha256_of(wasm));

  const Json manifest = Json::parse(a.manifest);
  EXPECT_EQ(manifest["schemaVersion"], 2);
  EXPECT_EQ(manifest["mediaType"], media::kOciManifest);
  EXPECT_EQ(manifest["artifactType"], media::kWasmConfig);
  EXPECT_EQ(manifest["config"]["mediaType"], media::kWasmConfig);
  EXPECT_EQ(manifest["config"]["digest"], a.config_digest.str());
  EXPECT_EQ(manifest["config"]["size"], a.config.size());
  ASSERT_EQ(manifest["layers"].size(), 1u);
  EXPECT_EQ(manifest["layers"][0]["mediaType"], "application/wasm");
  EXPECT_EQ(manifest["layers"][0]["size"], wasm.size());
  EXPECT_EQ(manifest["layers"][0]["annotations"]["org.opencontainers.image.title"], "tool.wasm");
  EXPECT_EQ(manifest["annotations"]["org.opencontainers.image.created"], "2024-05-01T12:00:00Z");
  EXPECT_EQ(manifest["annotations"]["org.opencontainers.image.source"],
            "https://github.com/example/tool");
  const Json config = Json::parse(a.config);
  EXPECT_EQ(config["architecture"], "wasm");
  EXPECT_EQ(config["os"], "wasip1");

  PushOptions no_source;
  no_source.created = options.created;
  EXPECT_FALSE(Json::parse(build_artifact(wasm, no_source).manifest)["annotations"].contains(
      "org.opencontainers.image.source"));
  EXPECT_EQ(rfc3339_now().size(), 20u);
}

TEST(OciEnvironmentTest, AppliesVariables) {
  std::map<std::string, std::string> env = {
      {"INSECURE_OCI_REGISTRIES", " localhost:5000, ,registry.local "},
      {"OCI_USERNAME", "u"},
      {"OCI_PASSWORD", "p"},
      {"OCI_CA_FILE", "/etc/ca.pem"},
      {"OCI_DOCKER_CONFIG", "/secrets/.dockerconfigjson"},
  };
  modules::OciSettings settings;
  settings.insecure_registries = {"already:1"};
  settings.username = "flag-user";
  apply_oci_environment(settings, [&](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
  EXPECT_EQ(settings.insecure_registries,
            (std::vector<std::string>{"already:1", "localhost:5000", "registry.local"}));
  EXPECT_EQ(settings.username, "flag-user");  // flags win
  EXPECT_EQ(settings.password, "p");
  EXPECT_EQ(settings.ca_file, std::filesystem::path("/etc/ca.pem"));
  EXPECT_EQ(settings.docker_config, std::filesystem::path("/secrets/.dockerconfigjson"));
}

TEST(RetryTest, BackoffAndRetryAfter) {
  EXPECT_GE(backoff_delay(0).count(), 80);
  EXPECT_LE(backoff_delay(0).count(), 120);
  EXPECT_LE(backoff_delay(30).count(), 2400);
  EXPECT_EQ(parse_retry_after("3"), std::chrono::milliseconds(3000));
  EXPECT_EQ(parse_retry_after(" 0 "), std::chrono::milliseconds(0));
  EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
  EXPECT_FALSE(parse_retry_after("-1"));
}

}  // namespace
}  // namespace wwp::oci
