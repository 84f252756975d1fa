// The module author's publish-and-run loop against a real registry (Debian's docker-registry on
// loopback): `push` with the plugin's CLI, then a step that names the module by OCI reference.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>

#include "../oci/registry_fixture.hpp"
#include "plugin_process.hpp"

using namespace wwp::testing;

namespace {

std::string cli(const std::string& args, int* exit_code) {
  FILE* pipe = ::popen((plugin_binary().string() + " " + args + " 2>&1").c_str(), "r");
  std::string out;
  std::array<char, 4096> buffer;
  while (auto n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  *exit_code = WEXITSTATUS(::pclose(pipe));
  return out;
}

}  // namespace

TEST(Oci, PushedModuleRunsByReference) {
  wwp::oci::test::Registry registry;
  registry.start();
  const std::string ref = registry.host() + "/demo/greet:1.0";
  const auto cache = fresh_temp_dir("oci-cli-cache");
  const std::string common =
      " --insecure-oci-registries " + registry.host() + " --fs-cache-dir " + cache.string();
  int code = 0;
  std::string pushed =
      cli("push " + (module_dir() / "greet.wasm").string() + " " + ref + common, &code);
  ASSERT_EQ(code, 0) << pushed;
  std::string inspected = cli("inspect " + ref + common, &code);
  ASSERT_EQ(code, 0) << inspected;
  EXPECT_NE(inspected.find("application/wasm"), std::string::npos) << inspected;

  PluginProcess plugin({"--insecure-oci-registries", registry.host()});
  Json tmpl = {{"name", "greet"},
               {"plugin", {{"wasm", {{"module", {{"oci", ref}}}, {"args", {"OCI"}}}}}}};
  auto reply = plugin.execute(tmpl);
  ASSERT_EQ(reply.status, 200) << reply.raw;
  EXPECT_EQ(reply.body["node"]["outputs"]["result"], "Hello, OCI!") << reply.raw;

  tmpl["plugin"]["wasm"]["module"]["oci"] = registry.host() + "/demo/missing:1.0";
  auto missing = plugin.execute(tmpl);
  EXPECT_EQ(missing.body["node"]["phase"], "Failed") << missing.raw;
  EXPECT_NE(missing.raw.find("not found"), std::string::npos) << missing.raw;

  registry.stop();
  tmpl["plugin"]["wasm"]["module"]["oci"] = registry.host() + "/demo/other:2.0";
  auto down = plugin.execute(tmpl);
  EXPECT_EQ(down.status, 503) << down.raw;  // the agent retries later
  std::filesystem::remove_all(cache);
}
