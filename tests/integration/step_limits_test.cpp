// What one step may take from the node, enforced through the real binary with real modules:
// sandbox trees of any depth are removed (and leftovers swept at start), a step's disk use is
// capped, module-made trees are walked within bounds, and args/env and output parameters have
// total caps. Artifact steps use the real S3 server (versitygw) on loopback.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "../artifacts/test_support.hpp"
#include "plugin_process.hpp"

using namespace wwp::testing;
namespace s3 = wwp::artifacts::test;
namespace fs = std::filesystem;

namespace {

// Step directories (step-*) under a sandbox parent.
std::vector<std::string> step_dirs(const fs::path& parent) {
  std::vector<std::string> found;
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with("step-")) found.push_back(name);
  }
  return found;
}

// Builds <top>/d/d/.../d (depth levels) host-side with one directory open at a time.
void make_deep_tree(const fs::path& top, int depth) {
  fs::create_directories(top);
  int dir = ::open(top.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dir, 0);
  for (int i = 0; i < depth; ++i) {
    ASSERT_EQ(::mkdirat(dir, "d", 0755), 0) << i;
    int child = ::openat(dir, "d", O_RDONLY | O_DIRECTORY);
    ASSERT_GE(child, 0) << i;
    ::close(dir);
    dir = child;
  }
  int file = ::openat(dir, "buried", O_WRONLY | O_CREAT, 0644);
  ::close(file);
  ::close(dir);
}

std::string message_of(const PluginProcess::Reply& reply) {
  return reply.body.is_object() ? reply.body["node"].value("message", "") : "";
}

// Calls again while the step is Running, as the agent does after `requeue`.
PluginProcess::Reply execute_until_done(const PluginProcess& plugin, const Json& tmpl) {
  for (;;) {
    auto reply = plugin.execute(tmpl);
    if (reply.status != 200 || reply.body["node"]["phase"] != "Running") return reply;
  }
}

}  // namespace

TEST(StepLimits, SandboxTwentyThousandDirectoriesDeepIsRemoved) {
  PluginProcess plugin;
  auto reply = execute_until_done(
      plugin, wasm_template("deep_tree.wasm", {{"args", {"20000", "/tmp/deep"}}}));
  ASSERT_EQ(reply.status, 200) << reply.raw;
  EXPECT_EQ(reply.body["node"]["phase"], "Succeeded") << reply.raw;
  EXPECT_EQ(reply.body["node"]["outputs"]["result"], "buried a file 20000 directories deep");
  EXPECT_TRUE(used_step_dirs(plugin.cache_dir() / "sandboxes").empty());
  EXPECT_EQ(plugin.log().find("could not be removed"), std::string::npos) << plugin.log();
}

TEST(StepLimits, LeftoverSandboxesAreSweptAtStartButNotThoseOfARunningProcess) {
  const fs::path cache = fresh_temp_dir("sweep-cache");
  const fs::path sandboxes = cache / "sandboxes";
  // From a process that is gone: the layout before owners existed, and a dead owner's.
  make_deep_tree(sandboxes / "step-a1B2c3" / "tmp", 20000);
  make_deep_tree(sandboxes / "step-0123456789ab-Zz9Yy8" / "tmp", 10);
  std::ofstream(sandboxes / ".owner-0123456789ab.lock") << "";
  // From a process that still runs (this test holds its lock).
  const fs::path live_lock = sandboxes / ".owner-feedfacecafe.lock";
  int lock = ::open(live_lock.c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(lock, 0);
  ASSERT_EQ(::flock(lock, LOCK_EX), 0);
  make_deep_tree(sandboxes / "step-feedfacecafe-Qq1Ww2" / "tmp", 3);
  {
    PluginProcess plugin({}, cache);
    // The sweep runs beside the server (a huge tree must not delay readiness): wait for its report.
    const std::string report = "removed 2 sandbox directories left by earlier runs";
    while (plugin.log().find(report) == std::string::npos &&
           plugin.log().find("sandbox sweep") == std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const auto left = step_dirs(sandboxes);
    EXPECT_EQ(left, std::vector<std::string>{"step-feedfacecafe-Qq1Ww2"}) << plugin.log();
    EXPECT_FALSE(fs::exists(sandboxes / ".owner-0123456789ab.lock"));
    EXPECT_NE(plugin.log().find(report + " (0 could not be removed)"), std::string::npos)
        << plugin.log();
  }
  ::close(lock);
  fs::remove_all(cache);
}

TEST(StepLimits, DiskLimitStopsAModuleThatFillsTheDisk) {
  PluginProcess plugin({"--max-disk-files", "1000"});
  // Writes without end: the watch stops it.
  Json endless =
      wasm_template("fill_disk.wasm", {{"limits", {{"disk", "8Mi"}, {"timeout", "5m"}}}});
  auto reply = plugin.execute(endless);
  EXPECT_EQ(reply.body["node"]["phase"], "Failed") << reply.raw;
  EXPECT_EQ(message_of(reply), "disk limit 8Mi exceeded") << reply.raw;
  // Files rather than bytes.
  Json many =
      wasm_template("fill_disk.wasm", {{"args", {"0", "100000"}}, {"limits", {{"timeout", "5m"}}}});
  reply = plugin.execute(many);
  EXPECT_EQ(reply.body["node"]["phase"], "Failed") << reply.raw;
  EXPECT_EQ(message_of(reply), "disk limit of 1000 files exceeded") << reply.raw;
  // Within the limit: fine. Above the operator's maximum: refused.
  Json small = wasm_template("fill_disk.wasm", {{"args", {"2"}}, {"limits", {{"disk", "8Mi"}}}});
  EXPECT_EQ(plugin.execute(small).body["node"]["phase"], "Succeeded");
  Json greedy = wasm_template("fill_disk.wasm", {{"args", {"2"}}, {"limits", {{"disk", "1Ti"}}}});
  reply = plugin.execute(greedy);
  EXPECT_EQ(reply.body["node"]["phase"], "Failed") << reply.raw;
  EXPECT_EQ(message_of(reply), "disk limit 1Ti is above the plugin's maximum of 10Gi");
  EXPECT_TRUE(used_step_dirs(plugin.cache_dir() / "sandboxes").empty());
}

// Every WASI file a module opens is a descriptor of the plugin process, shared by all steps.
TEST(StepLimits, OpenFilesLimitStopsAModuleHoardingDescriptorsWhileOthersRun) {
  PluginProcess plugin({"--max-open-files", "64"});
  Json hoarder = wasm_template("open_files.wasm",
                               {{"args", {"5000", "hold"}}, {"limits", {{"timeout", "5m"}}}});
  std::thread greedy([&] {
    auto reply = plugin.execute(hoarder);
    EXPECT_EQ(reply.body["node"]["phase"], "Failed") << reply.raw;
    EXPECT_EQ(message_of(reply), "open files limit of 64 exceeded") << reply.raw;
  });
  // Meanwhile other steps, with files of their own, still run.
  for (int i = 0; i < 5; ++i) {
    auto reply = plugin.execute(wasm_template("open_files.wasm", {{"args", {"20"}}}),
                                "other-" + std::to_string(i));
    EXPECT_EQ(reply.body["node"]["phase"], "Succeeded") << reply.raw;
    EXPECT_EQ(reply.body["node"]["outputs"]["result"], "20 files open") << reply.raw;
  }
  greedy.join();
  EXPECT_TRUE(used_step_dirs(plugin.cache_dir() / "sandboxes").empty());
}

TEST(StepLimits, ArgsExpandingAParameterManyTimesAreRefusedBeforeAllocation) {
  PluginProcess plugin;
  Json tmpl = wasm_template("hello.wasm");
  tmpl["inputs"] = {{"parameters", {{{"name", "big"}, {"value", std::string(1 << 20, 'a')}}}}};
  Json args = Json::array();
  for (int i = 0; i < 512; ++i) args.push_back("{{inputs.parameters.big}}");
  tmpl["plugin"]["wasm"]["args"] = args;
  auto reply = plugin.execute(tmpl);
  ASSERT_EQ(reply.status, 200) << reply.raw.substr(0, 500);
  EXPECT_EQ(reply.body["node"]["phase"], "Failed");
  EXPECT_EQ(message_of(reply), "args and env expand to more than the limit of 1Mi (--max-args)");
  // One argument repeating it, and env, count too; stdin has its own cap.
  tmpl["plugin"]["wasm"]["args"] = {"{{inputs.parameters.big}}{{inputs.parameters.big}}"};
  EXPECT_EQ(message_of(plugin.execute(tmpl)),
            "args and env expand to more than the limit of 1Mi (--max-args)");
  tmpl["plugin"]["wasm"]["args"] = Json::array();
  tmpl["plugin"]["wasm"]["env"] = {{"A", "{{inputs.parameters.big}}"}};
  EXPECT_EQ(message_of(plugin.execute(tmpl)),
            "args and env expand to more than the limit of 1Mi (--max-args)");
  tmpl["plugin"]["wasm"].erase("env");
  tmpl["plugin"]["wasm"]["stdin"] = "{{inputs.parameters.big}}!";
  EXPECT_EQ(message_of(plugin.execute(tmpl)),
            "stdin expand to more than the limit of 1Mi (--max-args)");
}

TEST(StepLimits, OutputParametersTogetherAreCapped) {
  PluginProcess plugin;
  Json tmpl = wasm_template("fill_disk.wasm", {{"args", {"1"}}});
  Json params = Json::array();
  for (int i = 0; i < 200; ++i) {
    params.push_back({{"name", "p" + std::to_string(i)}, {"valueFrom", {{"path", "/tmp/fill"}}}});
  }
  tmpl["outputs"] = {{"parameters", params}};
  auto reply = plugin.execute(tmpl);
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["node"]["phase"], "Failed");
  EXPECT_EQ(message_of(reply), "output parameters together are larger than the limit of 2Mi");
  EXPECT_LT(reply.raw.size(), 4u << 20);
  tmpl["outputs"]["parameters"] = Json::array({params[0], params[1]});
  reply = plugin.execute(tmpl);
  EXPECT_EQ(reply.body["node"]["phase"], "Succeeded") << reply.raw.substr(0, 300);
}

TEST(StepLimits, DeepModuleTreeAsOutputArtifactFailsNamingIt) {
  s3::S3Server server;
  s3::ScratchDir dir("wwp-deep-output-");
  server.make_bucket("argo");
  auto settings = s3::settings_for(server, dir, "argo");
  PluginProcess plugin({"--artifact-repository", settings.repository_config->string(),
                        "--artifact-secrets-dir", settings.secrets_dir->string()});
  for (const char* archive : {"none", "tar"}) {
    Json tmpl = wasm_template("deep_tree.wasm", {{"args", {"20000", "/tmp/deep"}}});
    tmpl["name"] = "bury";
    tmpl["outputs"] = {
        {"artifacts",
         {{{"name", "deep"}, {"path", "/tmp/deep"}, {"archive", {{archive, Json::object()}}}}}}};
    auto reply = execute_until_done(plugin, tmpl);
    ASSERT_EQ(reply.status, 200) << reply.raw;
    EXPECT_EQ(reply.body["node"]["phase"], "Failed") << archive;
    EXPECT_EQ(message_of(reply),
              "output artifact deep: /tmp/deep is nested deeper than 100 directories")
        << archive;
  }
  EXPECT_TRUE(used_step_dirs(plugin.cache_dir() / "sandboxes").empty());
  EXPECT_EQ(server.aws("s3 ls s3://argo --recursive").output, "");
}

// An input that never finishes arriving: the step fails at its deadline instead of holding a
// worker while the download goes on (a stall timeout does not see a slow, steady trickle).
TEST(StepLimits, DownloadsStopAtTheStepDeadline) {
  httplib::Server slow;
  std::atomic<bool> stop{false};
  slow.Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/octet-stream",
                                     [&](size_t, httplib::DataSink& sink) {
                                       if (stop) return false;
                                       std::this_thread::sleep_for(std::chrono::milliseconds(20));
                                       return sink.write("trickle", 7);
                                     });
  });
  const int port = slow.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { slow.listen_after_bind(); });
  PluginProcess plugin;
  Json tmpl = wasm_template("hello.wasm", {{"limits", {{"timeout", "2s"}}}});
  tmpl["inputs"] = {
      {"artifacts",
       {{{"name", "slow"},
         {"path", "/tmp/slow"},
         {"http", {{"url", "http://127.0.0.1:" + std::to_string(port) + "/slow"}}}}}}};
  auto reply = plugin.execute(tmpl);
  stop = true;
  slow.stop();
  serving.join();
  ASSERT_EQ(reply.status, 200) << reply.raw;
  EXPECT_EQ(reply.body["node"]["phase"], "Failed");
  EXPECT_EQ(message_of(reply), "timeout 2s exceeded while placing input artifact slow");
}
