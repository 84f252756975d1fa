#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "oci/media_types.hpp"
#include "oci/push.hpp"
#include "oci/settings.hpp"
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
  EXPECT_EQ(a.manifest_digest, sha256_of(a.manifest));
  EXPECT_EQ(a.layer_digest, sha256_of(wasm));

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

// DOCKER_CONFIG names a directory; its config.json is used when the plugin has no docker config
// flag (docs/oci.md), and ignored when that file does not exist.
TEST(OciEnvironmentTest, DockerConfigDirectory) {
  test::TempDir dir;
  auto env_with = [](std::optional<std::string> value) {
    return [value](const char* name) -> std::optional<std::string> {
      if (std::string_view(name) == "DOCKER_CONFIG") return value;
      return std::nullopt;
    };
  };
  EXPECT_FALSE(docker_config_from_environment(env_with(std::nullopt)));
  EXPECT_FALSE(docker_config_from_environment(env_with(dir.path().string())));  // no config.json
  test::write_file(dir / "config.json", R"({"auths": {"r.example": {"auth": "dTpw"}}})");
  const auto found = docker_config_from_environment(env_with(dir.path().string()));
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, dir.path() / "config.json");

  // And the credentials in it are what the registry client gets.
  OciSettings settings;
  settings.docker_config = *found;
  auto options = client_options(settings);
  ASSERT_TRUE(options) << options.error().message;
  auto credentials = options->credentials.find("r.example");
  ASSERT_TRUE(credentials);
  EXPECT_EQ(credentials->username, "u");
  EXPECT_EQ(credentials->password, "p");
}

}  // namespace
}  // namespace wwp::oci
