// Small helpers shared by the fault tests.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "../artifacts/test_support.hpp"
#include "faulty_proxy.hpp"
#include "plugin_process.hpp"

namespace wwp::faults::test {

// GET /healthz on the plugin's port; 0 when nothing answers.
int healthz(int port);

// An agent call and how long it took.
struct TimedReply {
  testing::PluginProcess::Reply reply;
  std::chrono::milliseconds took{0};
};
TimedReply timed_execute(const testing::PluginProcess& plugin, const testing::Json& tmpl,
                         const std::string& workflow_uid);

// The step's message, or the raw body for a non-200 answer.
std::string message_of(const testing::PluginProcess::Reply& reply);

// A real S3 server (versitygw) with bucket `argo`, reached through a FaultyProxy, and the
// plugin's flags that make it the artifact repository.
struct ProxiedS3 {
  explicit ProxiedS3(const std::string& scratch_prefix);
  std::vector<std::string> plugin_args() const;

  artifacts::test::S3Server server;
  artifacts::test::ScratchDir dir;
  FaultyProxy proxy;
  artifacts::ArtifactSettings settings;
};

// Sets a file's mtime `age` into the past (what a restart much later would see).
void age_file(const std::filesystem::path& file, std::chrono::minutes age);

}  // namespace wwp::faults::test
