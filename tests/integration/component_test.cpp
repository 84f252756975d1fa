// WASI preview 2 components through the real binary: the same template gives the same node as
// its C twin (a core module), exit codes, files at declared output paths, and a sleeping module
// of either kind ending at the step's timeout.
#include <gtest/gtest.h>

#include "plugin_process.hpp"

using namespace wwp::testing;

namespace {

class Components : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { plugin = new PluginProcess(); }
  static void TearDownTestSuite() {
    delete plugin;
    plugin = nullptr;
  }
  static Json node_of(const Json& tmpl) {
    auto reply = plugin->execute(tmpl);
    EXPECT_EQ(reply.status, 200) << reply.raw;
    return reply.body.is_object() && reply.body.contains("node") ? reply.body["node"] : Json();
  }
  static PluginProcess* plugin;
};
PluginProcess* Components::plugin = nullptr;

Json echo_template(const std::string& file, const std::string& first_arg) {
  return wasm_template(
      file, {{"args", {first_arg, "two words"}}, {"env", {{"COLOR", "blue"}}}, {"stdin", "piped"}});
}

}  // namespace

TEST_F(Components, ARustComponentAndACModuleGiveTheSameNode) {
  const Json core = node_of(echo_template("stdin_env.wasm", "one"));
  const Json component = node_of(echo_template("stdin_env_component.wasm", "one"));
  EXPECT_EQ(core["phase"], "Succeeded") << core.dump();
  EXPECT_EQ(component, core);
  EXPECT_EQ(component["outputs"]["result"],
            "arg1=one\narg2=two words\nCOLOR=blue\nHOME=(unset)\nstdin=piped");
}

TEST_F(Components, ANonZeroExitOfAComponentIsExitCode1) {
  // WASI 0.2's exit takes ok or err, so Rust's exit(3) reaches the host as err: exit code 1.
  const Json node = node_of(echo_template("stdin_env_component.wasm", "exit3"));
  EXPECT_EQ(node["phase"], "Failed") << node.dump();
  EXPECT_EQ(node["outputs"]["exitCode"], "1");
  EXPECT_EQ(node["message"], "exit code 1");
}

TEST_F(Components, FilesAtDeclaredPathsBecomeOutputParameters) {
  Json tmpl = echo_template("stdin_env_component.wasm", "write");
  tmpl["outputs"] = {
      {"parameters", {{{"name", "note"}, {"valueFrom", {{"path", "/tmp/component.txt"}}}}}}};
  const Json node = node_of(tmpl);
  EXPECT_EQ(node["phase"], "Succeeded") << node.dump();
  ASSERT_TRUE(node["outputs"].contains("parameters")) << node.dump();
  EXPECT_EQ(node["outputs"]["parameters"][0]["value"], "written by a component");
}

TEST_F(Components, AModuleSleepingInAHostCallEndsAtItsTimeout) {
  // tests/modules/go/sleep sleeps argv[1] seconds (an hour here); the timeout is far shorter.
  const Json node =
      node_of(wasm_template("sleep.wasm", {{"args", {"3600"}}, {"limits", {{"timeout", "1s"}}}}));
  EXPECT_EQ(node["phase"], "Failed") << node.dump();
  EXPECT_EQ(node["message"], "timeout 1s exceeded");
}
