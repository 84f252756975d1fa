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

Ran run(const std::string& args) {
  const std::string command = plugin_binary().string() + " run --module-dir " +
                              module_dir().string() + " --fs-cache-dir " +
                              fresh_temp_dir("run-cache").string() + " " + args + " 2>/dev/null";
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
