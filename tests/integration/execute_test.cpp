// The real binary on loopback, called exactly like Argo's agent calls it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "plugin_process.hpp"

using namespace wwp::testing;
using namespace std::chrono_literals;

namespace {

class Execute : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { plugin = new PluginProcess({"--max-output", "1Mi"}); }
  static void TearDownTestSuite() {
    delete plugin;
    plugin = nullptr;
  }
  static PluginProcess* plugin;

  static Json node_of(const PluginProcess::Reply& reply) {
    EXPECT_EQ(reply.status, 200) << reply.raw;
    return reply.body.is_object() && reply.body.contains("node") ? reply.body["node"] : Json();
  }
  static std::string message_of(const Json& node) { return node.value("message", ""); }
};
PluginProcess* Execute::plugin = nullptr;

}  // namespace

TEST_F(Execute, PlainWasiProgramSucceedsWithResultAndExitCode) {
  Json node = node_of(plugin->execute(wasm_template("hello.wasm")));
  EXPECT_EQ(node["phase"], "Succeeded");
  EXPECT_EQ(node["outputs"]["result"], "hello");
  EXPECT_EQ(node["outputs"]["exitCode"], "0");
}

TEST_F(Execute, ArgsAreSubstitutedFromInputParameters) {
  Json tmpl = wasm_template("greet.wasm", {{"args", {"{{inputs.parameters.who}}"}}});
  tmpl["inputs"] = {{"parameters", {{{"name", "who"}, {"value", "Argo"}}}}};
  Json node = node_of(plugin->execute(tmpl));
  EXPECT_EQ(node["outputs"]["result"], "Hello, Argo!");
}

TEST_F(Execute, ArgsEnvAndStdinReachTheModuleAndNothingElseDoes) {
  Json tmpl = wasm_template(
      "stdin_env.wasm",
      {{"args", {"one", "two words"}}, {"env", {{"COLOR", "blue"}}}, {"stdin", "piped"}});
  Json node = node_of(plugin->execute(tmpl));
  EXPECT_EQ(node["outputs"]["result"],
            "arg1=one\narg2=two words\nCOLOR=blue\nHOME=(unset)\nstdin=piped");
}

// JSON cannot carry bytes that are not UTF-8: they become U+FFFD, and the step keeps its result
// (it was answered 500 with a serialisation error). The module reads 255 bytes of stdin, which
// cuts the two-byte character at the end in half.
TEST_F(Execute, OutputThatIsNotUtf8KeepsTheStepsResult) {
  const std::string stdin_text = std::string(254, 'a') + "\u00e9";
  Json node = node_of(plugin->execute(wasm_template("stdin_env.wasm", {{"stdin", stdin_text}})));
  EXPECT_EQ(node["phase"], "Succeeded") << node.dump();
  const std::string result = node["outputs"].value("result", "");
  EXPECT_NE(result.find(std::string(254, 'a') + "\xEF\xBF\xBD"), std::string::npos) << result;
}

TEST_F(Execute, GoProgramRuns) {
  Json node = node_of(plugin->execute(wasm_template("hello_go.wasm", {{"args", {"wasip1"}}})));
  EXPECT_EQ(node["phase"], "Succeeded") << node.dump();
  EXPECT_EQ(node["outputs"]["result"], "Hello from wasip1");
}

TEST_F(Execute, TemplateOfAnotherPluginGetsEmptyObject) {
  Json tmpl = {{"name", "x"}, {"plugin", {{"hello", {{"text", "hi"}}}}}};
  auto reply = plugin->execute(tmpl);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.raw, "{}");
}

TEST_F(Execute, WrongOrMissingTokenIsForbidden) {
  Json body = {{"workflow", {{"metadata", {{"name", "w"}}}}},
               {"template", wasm_template("hello.wasm")}};
  EXPECT_EQ(plugin->post(body.dump(), "Bearer wrong").status, 403);
  EXPECT_EQ(plugin->post(body.dump(), "").status, 403);
}

TEST_F(Execute, MalformedRequestsAre400WithTheField) {
  auto auth = "Bearer " + plugin->token();
  auto bad_json = plugin->post("{nope", auth);
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.raw, "request body is not valid JSON\n");
  auto bad_shape = plugin->execute(wasm_template("hello.wasm", {{"args", "x"}}));
  EXPECT_EQ(bad_shape.status, 400);
  EXPECT_EQ(bad_shape.raw, "template.plugin.wasm.args: expected a list, got string\n");
}

TEST_F(Execute, UnknownPathsAndMethodsAre404) {
  httplib::Client client("127.0.0.1", plugin->port());
  EXPECT_EQ(client.Get("/api/v1/template.execute")->status, 404);
  EXPECT_EQ(client.Post("/api/v1/other", "{}", "application/json")->status, 404);
  EXPECT_EQ(client.Get("/healthz")->status, 200);
  EXPECT_EQ(client.Get("/readyz")->status, 200);
}

TEST_F(Execute, NonZeroExitFailsWithStderrTail) {
  Json node = node_of(plugin->execute(wasm_template("exit3.wasm")));
  EXPECT_EQ(node["phase"], "Failed");
  EXPECT_EQ(message_of(node), "exit code 3: warming up\nerror: the input is not valid");
  EXPECT_EQ(node["outputs"]["exitCode"], "3");
  EXPECT_EQ(node["outputs"]["result"], "partial output");
}

TEST_F(Execute, TrapFailsWithBacktrace) {
  Json node = node_of(plugin->execute(wasm_template("trap.wasm")));
  EXPECT_EQ(node["phase"], "Failed");
  EXPECT_NE(message_of(node).find("module trapped"), std::string::npos) << node.dump();
  EXPECT_NE(message_of(node).find("backtrace"), std::string::npos) << node.dump();
}

TEST_F(Execute, InfiniteLoopHitsTheTimeout) {
  Json node =
      node_of(plugin->execute(wasm_template("loop.wasm", {{"limits", {{"timeout", "1s"}}}})));
  EXPECT_EQ(node["phase"], "Failed");
  EXPECT_EQ(message_of(node), "timeout 1s exceeded");
}

TEST_F(Execute, MemoryBombHitsTheMemoryLimit) {
  Json node =
      node_of(plugin->execute(wasm_template("membomb.wasm", {{"limits", {{"memory", "32Mi"}}}})));
  EXPECT_EQ(node["phase"], "Failed");
  EXPECT_NE(message_of(node).find("memory limit 32Mi"), std::string::npos) << node.dump();
}

// One large request far above the limit, refused while the module's memory is still small; the
// module exits with a code of its own, and the message still says why.
TEST_F(Execute, RefusedLargeAllocationNamesTheMemoryLimit) {
  Json node =
      node_of(plugin->execute(wasm_template("bigalloc.wasm", {{"limits", {{"memory", "32Mi"}}}})));
  EXPECT_EQ(node["phase"], "Failed");
  EXPECT_EQ(message_of(node),
            "exit code 7 (memory limit 32Mi reached: the module asked for more memory and was "
            "refused): cannot allocate 48 MiB")
      << node.dump();
}

TEST_F(Execute, MemoryLimitAboveTheMaximumIsRefused) {
  Json node =
      node_of(plugin->execute(wasm_template("hello.wasm", {{"limits", {{"memory", "64Gi"}}}})));
  EXPECT_EQ(node["phase"], "Failed");
  EXPECT_NE(message_of(node).find("memory limit 64Gi is above the plugin's maximum"),
            std::string::npos)
      << node.dump();
}

TEST_F(Execute, StdoutFloodHitsTheOutputCap) {
  Json node = node_of(plugin->execute(wasm_template("flood.wasm")));
  EXPECT_EQ(node["phase"], "Failed");
  EXPECT_EQ(message_of(node), "stdout limit 1Mi exceeded");
}

TEST_F(Execute, GarbageResultJsonFailsTheStep) {
  Json node = node_of(plugin->execute(wasm_template("garbage_result.wasm")));
  EXPECT_EQ(node["phase"], "Failed");
  EXPECT_EQ(message_of(node), "result.json is not valid JSON");
}

TEST_F(Execute, EarlierAbiModuleGetsInputJsonAndReturnsResultJson) {
  Json tmpl = wasm_template("legacy_echo.wasm", {{"greeting", "hi"}});
  tmpl["inputs"] = {
      {"parameters",
       {{{"name", "text"}, {"value", "Hello World"}}, {{"name", "n"}, {"value", "3"}}}}};
  Json node = node_of(plugin->execute(tmpl));
  EXPECT_EQ(node["phase"], "Succeeded") << node.dump();
  EXPECT_EQ(message_of(node), "echoed 2 parameters");
  const Json& params = node["outputs"]["parameters"];
  ASSERT_EQ(params.size(), 4u) << node.dump();
  EXPECT_EQ(params[0], (Json{{"name", "text"}, {"value", "Hello World"}}));
  EXPECT_EQ(params[2], (Json{{"name", "workflow"}, {"value", "wf-test"}}));
  EXPECT_EQ(params[3]["value"], R"([{"name":"greeting","value":"hi"}])");
}

TEST_F(Execute, EarlierAbiModuleCanFailTheStep) {
  Json tmpl = wasm_template("legacy_echo.wasm");
  tmpl["inputs"] = {{"parameters", {{{"name", "fail"}, {"value", "yes"}}}}};
  Json node = node_of(plugin->execute(tmpl));
  EXPECT_EQ(node["phase"], "Failed");
  EXPECT_EQ(message_of(node), "asked to fail");
}

TEST_F(Execute, OutputParametersAreReadFromDeclaredPaths) {
  Json tmpl = wasm_template("write_outputs.wasm",
                            {{"args", {"from args"}}, {"env", {{"GREETING", "hey"}}}});
  tmpl["outputs"] = {{"parameters",
                      {{{"name", "message"}, {"valueFrom", {{"path", "/tmp/message.txt"}}}},
                       {{"name", "greeting"}, {"valueFrom", {{"path", "/tmp/greeting.txt"}}}},
                       {{"name", "missing"},
                        {"valueFrom", {{"path", "/tmp/none.txt"}, {"default", "fallback"}}}}}}};
  Json node = node_of(plugin->execute(tmpl));
  EXPECT_EQ(node["phase"], "Succeeded") << node.dump();
  EXPECT_EQ(node["outputs"]["parameters"][0]["value"], "from args");
  EXPECT_EQ(node["outputs"]["parameters"][1]["value"], "hey");
  EXPECT_EQ(node["outputs"]["parameters"][2]["value"], "fallback");
}

TEST_F(Execute, MissingOutputWithoutDefaultFailsNamingIt) {
  Json tmpl = wasm_template("hello.wasm");
  tmpl["outputs"] = {
      {"parameters", {{{"name", "nothing"}, {"valueFrom", {{"path", "/tmp/nothing"}}}}}}};
  Json node = node_of(plugin->execute(tmpl));
  EXPECT_EQ(node["phase"], "Failed");
  EXPECT_EQ(
      message_of(node),
      "output parameter nothing: /tmp/nothing was not written by the module and no default is set");
}

TEST_F(Execute, ModuleCannotLeaveItsSandbox) {
  Json tmpl = wasm_template("escape.wasm");
  tmpl["outputs"] = {
      {"parameters",
       {{{"name", "leak"}, {"valueFrom", {{"path", "/tmp/leak.txt"}, {"default", "none"}}}},
        {{"name", "leak2"}, {"valueFrom", {{"path", "/tmp/leak2.txt"}, {"default", "none"}}}}}}};
  Json node = node_of(plugin->execute(tmpl));
  const std::string result = node["outputs"].value("result", "");
  EXPECT_EQ(result.find("OPENED"), std::string::npos) << result;
  EXPECT_EQ(node.dump().find("root:"), std::string::npos) << node.dump();
}

TEST_F(Execute, BadModuleReferencesFailTheStep) {
  Json outside = node_of(plugin->execute(wasm_template("../../etc/passwd")));
  EXPECT_EQ(outside["phase"], "Failed");
  EXPECT_NE(message_of(outside).find("outside the module directory"), std::string::npos)
      << outside.dump();
  Json missing = node_of(plugin->execute(wasm_template("nope.wasm")));
  EXPECT_EQ(missing["phase"], "Failed");
  EXPECT_NE(message_of(missing).find("module nope.wasm not found"), std::string::npos)
      << missing.dump();
  // A malformed reference is the template's fault: the step fails (an unreachable registry
  // answers 503 instead; see the OCI tests).
  auto bad_ref = plugin->execute(wasm_template("x.wasm", {{"module", {{"oci", "Bad Ref!"}}}}));
  EXPECT_EQ(bad_ref.body["node"]["phase"], "Failed") << bad_ref.raw;
}

TEST_F(Execute, SixteenConcurrentStepsAllSucceed) {
  std::vector<std::thread> threads;
  std::atomic<int> succeeded{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      Json tmpl = wasm_template("greet.wasm", {{"args", {"n" + std::to_string(i)}}});
      auto reply = plugin->execute(tmpl, "uid-c" + std::to_string(i));
      if (reply.status == 200 &&
          reply.body["node"]["outputs"]["result"] == "Hello, n" + std::to_string(i) + "!")
        ++succeeded;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(succeeded, 16);
}

TEST_F(Execute, SandboxDirectoriesAreRemoved) {
  node_of(plugin->execute(wasm_template("write_outputs.wasm")));
  node_of(plugin->execute(wasm_template("trap.wasm")));
  const auto sandboxes = plugin->cache_dir() / "sandboxes";
  ASSERT_TRUE(std::filesystem::exists(sandboxes));
  // Only this process's owner lock remains, and emptied directories kept for the next steps
  // (docs/operations.md: sandboxes).
  EXPECT_TRUE(used_step_dirs(sandboxes).empty());
  for (const auto& entry : std::filesystem::directory_iterator(sandboxes)) {
    const std::string name = entry.path().filename().string();
    EXPECT_TRUE(name.starts_with(".owner-") || name.starts_with("step-")) << entry.path();
  }
}

TEST(ExecuteModules, InvalidWasmAndMissingImportsFailCleanly) {
  const auto dir = fresh_temp_dir("badmods");
  std::ofstream(dir / "garbage.wasm") << "\0asm this is not wasm";
  std::ofstream(dir / "imports.wat")
      << R"((module (import "env" "missing" (func)) (func (export "_start"))))";
  PluginProcess plugin({"--module-dir", dir.string()});
  auto garbage = plugin.execute(wasm_template("garbage.wasm"));
  EXPECT_EQ(garbage.body["node"]["phase"], "Failed");
  EXPECT_NE(garbage.body["node"]["message"].get<std::string>().find("invalid Wasm module"),
            std::string::npos);
  auto imports = plugin.execute(wasm_template("imports.wat"));
  EXPECT_EQ(imports.body["node"]["phase"], "Failed");
  EXPECT_NE(imports.body["node"]["message"].get<std::string>().find("env::missing"),
            std::string::npos)
      << imports.raw;
  std::filesystem::remove_all(dir);
}
