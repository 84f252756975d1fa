// Issue 9's compatibility bug: a module built for the earlier (Rust) implementation reads an input
// artifact at /work/artifacts-in/<declared path> and writes outputs at
// /work/artifacts-out/<path>. legacy_paths.c uses exactly those paths; it runs end to end through
// the binary against a real S3 server (versitygw) on loopback.
#include <gtest/gtest.h>

#include "../artifacts/test_support.hpp"
#include "plugin_process.hpp"

using namespace wwp::testing;
namespace s3 = wwp::artifacts::test;

TEST(LegacyArtifacts, EarlierSdkPathsWorkEndToEnd) {
  s3::S3Server server;
  s3::ScratchDir dir("wwp-legacy-artifacts-");
  server.make_bucket("argo");
  auto settings = s3::settings_for(server, dir, "argo");
  s3::write_file(dir.path() / "input.jpg", "pixels from a container\n");
  server.put(dir.path() / "input.jpg", "argo", "earlier-step/input.jpg");

  PluginProcess plugin({"--artifact-repository", settings.repository_config->string(),
                        "--artifact-secrets-dir", settings.secrets_dir->string()});
  Json tmpl = wasm_template("legacy_paths.wasm");
  tmpl["name"] = "image-processor";
  tmpl["inputs"] = {{"artifacts",
                     {{{"name", "input"},
                       {"path", "/input.jpg"},
                       {"archive", {{"none", Json::object()}}},
                       {"s3", {{"key", "earlier-step/input.jpg"}}}}}}};
  // "output" is reported by the module only (result.json, path /output.jpg); "png" is declared
  // at /out.png and written by the module at /work/artifacts-out/out.png.
  tmpl["outputs"] = {
      {"artifacts",
       {{{"name", "png"}, {"path", "/out.png"}, {"archive", {{"none", Json::object()}}}}}}};
  auto reply = plugin.execute(tmpl);
  ASSERT_EQ(reply.status, 200) << reply.raw;
  const Json& node = reply.body["node"];
  ASSERT_EQ(node["phase"], "Succeeded") << reply.raw;
  EXPECT_EQ(node["message"], "Image processed");
  ASSERT_EQ(node["outputs"]["artifacts"].size(), 2u) << reply.raw;

  const Json& png = node["outputs"]["artifacts"][0];
  EXPECT_EQ(png["name"], "png");
  EXPECT_EQ(png["path"], "/out.png");
  auto got_png = server.get("argo", png["s3"]["key"], dir.path() / "out.png");
  ASSERT_TRUE(got_png.has_value()) << reply.raw;
  EXPECT_EQ(s3::read_file(*got_png), "declared at /out.png\n");

  const Json& output = node["outputs"]["artifacts"][1];
  EXPECT_EQ(output["name"], "output");
  EXPECT_EQ(output["path"], "/output.jpg");
  const std::string key = output["s3"]["key"];
  EXPECT_TRUE(key.ends_with("output.tgz")) << key;
  auto got = server.get("argo", key, dir.path() / "output.tgz");
  ASSERT_TRUE(got.has_value()) << key;
  std::filesystem::create_directories(dir.path() / "out");
  ASSERT_EQ(s3::run("tar -xzf " + s3::quote(got->string()) + " -C " +
                    s3::quote((dir.path() / "out").string()))
                .exit_code,
            0);
  EXPECT_EQ(s3::read_file(dir.path() / "out" / "output.jpg"), "PIXELS FROM A CONTAINER\n");
}
