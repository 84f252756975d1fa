// Starts the real plugin binary on a free loopback port and talks to it the way Argo's agent
// does: POST /api/v1/template.execute with a bearer token and the agent's JSON body.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "support/ports.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace wwp::testing {

using Json = nlohmann::json;

std::filesystem::path module_dir();  // where the build put the test modules
std::filesystem::path plugin_binary();
// A new empty directory, removed when the test process ends.
std::filesystem::path fresh_temp_dir(const std::string& name);
using wwp::test::free_port;

class PluginProcess {
 public:
  // `extra_args` are appended to: serve --port P --module-dir M --fs-cache-dir C --token-file T
  explicit PluginProcess(std::vector<std::string> extra_args = {},
                         std::filesystem::path cache_dir = {});
  ~PluginProcess();
  PluginProcess(const PluginProcess&) = delete;

  int port() const { return port_; }
  const std::string& token() const { return token_; }
  const std::filesystem::path& cache_dir() const { return cache_dir_; }
  std::string log() const;
  pid_t pid() const { return process_.pid(); }

  // Sends SIGTERM and waits; returns the exit status.
  int terminate();

  // The agent's call. Returns status and parsed body (null when not JSON).
  struct Reply {
    int status = 0;
    Json body;
    std::string raw;
  };
  Reply execute(const Json& tmpl, const std::string& workflow_uid = "uid-1") const;
  Reply post(const std::string& body, const std::string& authorization) const;

 private:
  int port_ = 0;
  wwp::test::ChildProcess process_;
  std::string token_ = "test-token-0123456789";
  std::filesystem::path dir_;
  std::filesystem::path cache_dir_;
};

// A template for module `file` under the test module dir, with the given wasm block extras.
Json wasm_template(const std::string& file, Json extra = Json::object());

// Step directories (step-*) under a sandbox parent that hold anything beyond the empty layout
// (work/, work/artifacts-in/, work/artifacts-out/, tmp/): the plugin keeps emptied ones for its
// next steps, so these are the ones that would leak what a step wrote.
std::vector<std::string> used_step_dirs(const std::filesystem::path& parent);

}  // namespace wwp::testing
