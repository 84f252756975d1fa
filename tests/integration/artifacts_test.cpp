// A Wasm step between container steps: its input artifact was written by an independent S3
// client the way argoexec writes one (tar.gz of a file), and its output artifact is read back by
// that client and unpacks to the expected file. Real S3 server (versitygw) on loopback.
#include <gtest/gtest.h>

#include "../artifacts/test_support.hpp"
#include "plugin_process.hpp"

using namespace wwp::testing;
namespace s3 = wwp::artifacts::test;

TEST(Artifacts, WasmStepConsumesAndProducesArgoArtifacts) {
  s3::S3Server server;
  s3::ScratchDir dir("wwp-e2e-artifacts-");
  server.make_bucket("argo");
  auto settings = s3::settings_for(server, dir, "argo");
  s3::write_file(dir.path() / "in" / "message.txt", "hello from a container\n");
  ASSERT_EQ(s3::run("tar -czf " + s3::quote((dir.path() / "in.tgz").string()) + " -C " +
                    s3::quote((dir.path() / "in").string()) + " message.txt")
                .exit_code,
            0);
  server.put(dir.path() / "in.tgz", "argo", "earlier-step/message.tgz");

  PluginProcess plugin({"--artifact-repository", settings.repository_config->string(),
                        "--artifact-secrets-dir", settings.secrets_dir->string()});
  Json tmpl = wasm_template("upper.wasm", {{"args", {"/tmp/in.txt", "/tmp/out.txt"}}});
  tmpl["name"] = "shout";
  tmpl["inputs"] = {{"artifacts",
                     {{{"name", "message"},
                       {"path", "/tmp/in.txt"},
                       {"s3", {{"key", "earlier-step/message.tgz"}}}}}}};
  tmpl["outputs"] = {{"artifacts", {{{"name", "shouted"}, {"path", "/tmp/out.txt"}}}}};
  auto reply = plugin.execute(tmpl);
  ASSERT_EQ(reply.status, 200) << reply.raw;
  const Json& node = reply.body["node"];
  ASSERT_EQ(node["phase"], "Succeeded") << reply.raw;
  const Json& artifact = node["outputs"]["artifacts"][0];
  EXPECT_EQ(artifact["name"], "shouted");
  EXPECT_EQ(artifact["s3"]["bucket"], "argo");
  const std::string key = artifact["s3"]["key"];
  EXPECT_TRUE(key.ends_with("shouted.tgz")) << key;

  auto fetched = server.get("argo", key, dir.path() / "out.tgz");
  ASSERT_TRUE(fetched.has_value()) << key;
  std::filesystem::create_directories(dir.path() / "out");
  ASSERT_EQ(s3::run("tar -xzf " + s3::quote(fetched->string()) + " -C " +
                    s3::quote((dir.path() / "out").string()))
                .exit_code,
            0);
  EXPECT_EQ(s3::read_file(dir.path() / "out" / "out.txt"), "HELLO FROM A CONTAINER\n");

  tmpl["inputs"]["artifacts"][0]["s3"]["key"] = "nowhere/missing.tgz";
  auto missing = plugin.execute(tmpl);
  EXPECT_EQ(missing.body["node"]["phase"], "Failed");
  EXPECT_NE(missing.raw.find("input artifact message not found at s3://argo/nowhere/missing.tgz"),
            std::string::npos)
      << missing.raw;
  server.stop();
  auto down = plugin.execute(tmpl);
  EXPECT_EQ(down.status, 503) << down.raw;
}
