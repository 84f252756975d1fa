// The module author's inner loop: `wasm-workflows-plugin run workflow.yaml -p name=value`.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "plugin_process.hpp"

using namespace wwp::testing;

namespace {

struct Ran {
  int exit_code;
  std::string stdout_text;
};

// `with_log` mixes the log (stderr) into the captured text; `shell_prefix` runs before the plugin
// in the same shell (e.g. a ulimit).
Ran run(const std::string& args, bool with_log = false, const std::string& shell_prefix = "") {
  const std::string command = shell_prefix + plugin_binary().string() + " run --module-dir " +
                              module_dir().string() + " --fs-cache-dir " +
                              fresh_temp_dir("run-cache").string() + " " + args +
                              (with_log ? " 2>&1" : " 2>/dev/null");
  FILE* pipe = ::popen(command.c_str(), "r");
  std::string out;
  std::array<char, 4096> buffer;
  while (auto n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  int status = ::pclose(pipe);
  return {WEXITSTATUS(status), out};
}

}  // namespace

TEST(RunCommand, RunsTheEntrypointOfAWorkflowWithParameters) {
  const auto dir = fresh_temp_dir("run-wf");
  std::ofstream(dir / "wf.yaml") << R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: greet-
spec:
  entrypoint: greet
  arguments:
    parameters:
      - name: who
        value: default-person
  templates:
    - name: greet
      inputs:
        parameters:
          - name: who
      plugin:
        wasm:
          module:
            path: greet.wasm
          args: ["{{inputs.parameters.who}}"]
)";
  auto ran = run((dir / "wf.yaml").string() + " -p who=Ada");
  EXPECT_EQ(ran.exit_code, 0);
  auto json = Json::parse(ran.stdout_text);
  EXPECT_EQ(json["node"]["phase"], "Succeeded");
  EXPECT_EQ(json["node"]["outputs"]["result"], "Hello, Ada!");
  auto defaulted = run((dir / "wf.yaml").string());
  EXPECT_EQ(Json::parse(defaulted.stdout_text)["node"]["outputs"]["result"],
            "Hello, default-person!");
  std::filesystem::remove_all(dir);
}

TEST(RunCommand, FailingStepExitsNonZeroAndPrintsTheNode) {
  const auto dir = fresh_temp_dir("run-fail");
  std::ofstream(dir / "t.json")
      << R"({"name":"f","plugin":{"wasm":{"module":{"path":"exit3.wasm"}}}})";
  auto ran = run((dir / "t.json").string());
  EXPECT_EQ(ran.exit_code, 1);
  EXPECT_EQ(Json::parse(ran.stdout_text)["node"]["outputs"]["exitCode"], "3");
  std::filesystem::remove_all(dir);
}

// Wasmtime's pooling allocator reserves tens of GiB of address space up front and would end the
// process if it could not; under `ulimit -v` the plugin allocates per step instead and says so.
TEST(RunCommand, RunsUnderAnAddressSpaceLimitWithoutThePool) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's shadow memory needs terabytes of address space";
#endif
  const auto dir = fresh_temp_dir("run-ulimit");
  std::ofstream(dir / "t.json")
      << R"({"name":"h","plugin":{"wasm":{"module":{"path":"hello.wasm"}}}})";
  auto ran = run((dir / "t.json").string(), /*with_log=*/true, "ulimit -v 16777216; exec ");
  EXPECT_EQ(ran.exit_code, 0) << ran.stdout_text;
  EXPECT_NE(ran.stdout_text.find("pooling allocator off: cannot reserve"), std::string::npos)
      << ran.stdout_text;
  EXPECT_NE(ran.stdout_text.find("Succeeded"), std::string::npos) << ran.stdout_text;
  std::filesystem::remove_all(dir);
}

TEST(RunCommand, DeepOrExplodingYamlIsRefusedWithAClearMessage) {
  const auto dir = fresh_temp_dir("run-hostile");
  auto template_with = [&](const std::string& name, const std::string& extra) {
    std::ofstream(dir / name) << "name: t\nplugin:\n  wasm:\n    module: {path: greet.wasm}\n"
                              << extra;
    return run((dir / name).string(), /*with_log=*/true);
  };
  // Past yaml-cpp's own parser limit: refused by the parser, not a stack overflow.
  const std::size_t very_deep = 60000;
  auto parser = template_with("very-deep.yaml", "    deep: " + std::string(very_deep, '[') +
                                                    std::string(very_deep, ']') + "\n");
  EXPECT_EQ(parser.exit_code, 2) << parser.stdout_text;
  EXPECT_NE(parser.stdout_text.find("invalid YAML"), std::string::npos) << parser.stdout_text;
  // Within the parser's limit but past ours.
  auto deep = template_with("deep.yaml",
                            "    deep: " + std::string(300, '[') + std::string(300, ']') + "\n");
  EXPECT_EQ(deep.exit_code, 2);
  EXPECT_NE(deep.stdout_text.find("nested deeper than 128 levels"), std::string::npos)
      << deep.stdout_text;
  // Ten levels of ten aliases each would be 10^10 values.
  std::string laughs = "    a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 10; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    laughs += "    a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) laughs += (j ? ", " : "") + prev;
    laughs += "]\n";
  }
  auto bomb = template_with("laughs.yaml", laughs);
  EXPECT_EQ(bomb.exit_code, 2);
  EXPECT_NE(bomb.stdout_text.find("expands to more than"), std::string::npos) << bomb.stdout_text;
  std::filesystem::remove_all(dir);
}
