// kill -9 of the plugin in the middle of a pull, a compile and an artifact upload, then a
// restart on the same cache: nothing half-written is ever used, leftovers are removed, and the
// step the agent sends again succeeds.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "../artifacts/test_support.hpp"
#include "../oci/registry_fixture.hpp"
#include "common/digest.hpp"
#include "fault_support.hpp"
#include "faulty_proxy.hpp"

using namespace wwp::testing;
using namespace wwp::faults::test;
using namespace std::chrono_literals;
using Mode = FaultyProxy::Mode;
namespace fs = std::filesystem;
namespace s3 = wwp::artifacts::test;

namespace {

// Polls `done` every 5 ms for up to `limit`.
template <class Predicate>
bool wait_for(Predicate done, std::chrono::milliseconds limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::uintmax_t largest_temp(const fs::path& dir) {
  std::uintmax_t largest = 0;
  for (const auto& temp : wwp::oci::test::temp_files(dir)) {
    std::error_code ec;
    largest = std::max<std::uintmax_t>(largest, fs::file_size(temp, ec));
  }
  return largest;
}

std::vector<fs::path> files_with_extension(const fs::path& dir, const std::string& extension) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == extension) found.push_back(it->path());
  }
  return found;
}

std::size_t entries_in(const fs::path& dir) {
  std::error_code ec;
  std::size_t count = 0;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (!it->path().filename().string().starts_with(".owner-")) ++count;
  }
  return count;
}

ino_t inode(const fs::path& file) {
  struct stat st {};
  ::stat(file.c_str(), &st);
  return st.st_ino;
}

}  // namespace

TEST(Crash, KillDuringAPullThenRestartOnTheSameCache) {
  wwp::oci::test::Registry registry;
  FaultyProxy proxy(registry.port());
  const std::string ref = proxy.host() + "/team/hello-go:v1";
  const fs::path module = module_dir() / "hello_go.wasm";  // 2.6 MB
  ASSERT_EQ(
      wwp::oci::test::run_command({plugin_binary().string(), "push", "--insecure-oci-registries",
                                   proxy.host(), module.string(), ref})
          .exit_code,
      0);
  const wwp::Digest digest = wwp::sha256_of(wwp::oci::test::read_file(module));
  const fs::path cache = fresh_temp_dir("crash-pull");
  const fs::path blob = cache / "blobs" / "sha256" / digest.hex;
  Json tmpl = {{"name", "hello"},
               {"plugin", {{"wasm", {{"module", {{"oci", ref}}}, {"args", {"the restart"}}}}}}};
  proxy.set_mode(Mode::Slow);
  proxy.set_bytes_per_second(512 * 1024);  // about five seconds for the module
  {
    PluginProcess plugin({"--insecure-oci-registries", proxy.host()}, cache);
    std::thread agent([&] { plugin.execute(tmpl); });
    ASSERT_TRUE(wait_for([&] { return largest_temp(cache / "blobs") > 256 * 1024; }, 30s))
        << plugin.log();
    ::kill(plugin.pid(), SIGKILL);
    agent.join();
  }
  EXPECT_FALSE(fs::exists(blob));  // nothing under the digest but whole, verified bytes
  const auto leftovers = wwp::oci::test::temp_files(cache / "blobs");
  ASSERT_EQ(leftovers.size(), 1u);
  // The agent sends the step again, some minutes later.
  for (const auto& temp : leftovers) age_file(temp, 11min);
  proxy.set_mode(Mode::Pass);
  {
    PluginProcess plugin({"--insecure-oci-registries", proxy.host()}, cache);
    auto reply = plugin.execute(tmpl);
    EXPECT_EQ(reply.body["node"]["outputs"]["result"], "Hello from the restart") << reply.raw;
    EXPECT_EQ(wwp::oci::test::read_file(blob), wwp::oci::test::read_file(module));
    EXPECT_TRUE(
        wwp::oci::test::temp_files(cache / "blobs").empty());  // the dead writer's file is gone
    EXPECT_NE(plugin.log().find("removed 1 unfinished downloads"), std::string::npos)
        << plugin.log();
  }
  fs::remove_all(cache);
}

TEST(Crash, KillDuringACompileThenRestartOnTheSameCache) {
  const fs::path cache = fresh_temp_dir("crash-compile");
  const Json tmpl = wasm_template("hello_go.wasm", {{"args", {"the restart"}}});
  {
    PluginProcess plugin({}, cache);
    std::thread agent([&] { plugin.execute(tmpl); });
    // Killed while compiling: the module is read, no precompiled file is written yet.
    std::this_thread::sleep_for(300ms);
    const bool compiled_before_kill = !files_with_extension(cache / "compiled", ".cwasm").empty();
    ::kill(plugin.pid(), SIGKILL);
    agent.join();
    ASSERT_FALSE(compiled_before_kill) << "the kill came too late";
  }
  fs::path cwasm;
  {
    PluginProcess plugin({}, cache);
    auto reply = plugin.execute(tmpl);
    EXPECT_EQ(reply.body["node"]["outputs"]["result"], "Hello from the restart") << reply.raw;
    ASSERT_TRUE(wait_for(
        [&] { return !files_with_extension(cache / "compiled", ".cwasm").empty(); }, 120s));
    cwasm = files_with_extension(cache / "compiled", ".cwasm").front();
    ASSERT_TRUE(
        wait_for([&] { return wwp::oci::test::temp_files(cache / "compiled").empty(); }, 60s));
  }
  // What a process killed in the middle of writing that file leaves: a torn temporary file.
  const std::string whole = wwp::oci::test::read_file(cwasm);
  const ino_t before = inode(cwasm);
  const fs::path torn = cwasm.parent_path() / ".tmp-999999-0-dead";
  wwp::oci::test::write_file(torn, whole.substr(0, whole.size() / 2));
  age_file(torn, 11min);
  {
    PluginProcess plugin({}, cache);
    EXPECT_FALSE(fs::exists(torn)) << plugin.log();
    EXPECT_NE(plugin.log().find("removed 1 unfinished files"), std::string::npos) << plugin.log();
    auto reply = plugin.execute(tmpl);
    EXPECT_EQ(reply.body["node"]["outputs"]["result"], "Hello from the restart") << reply.raw;
    EXPECT_EQ(inode(cwasm), before);  // loaded, not rebuilt
  }
  fs::remove_all(cache);
}

TEST(Crash, KillDuringAnArtifactUploadThenRestart) {
  ProxiedS3 s3("wwp-faults-upload-");
  auto& [server, dir, proxy, settings] = s3;
  const fs::path cache = fresh_temp_dir("crash-upload");
  const std::vector<std::string> args = s3.plugin_args();
  // 32 MiB written by the module, uploaded as is: more than the kernel's socket buffers hold, so
  // that most of it is still unsent when the plugin dies.
  constexpr std::size_t kSize = 32u << 20;
  Json tmpl = wasm_template("fill_disk.wasm", {{"args", {"32"}}});
  tmpl["outputs"] = {{"artifacts",
                      {{{"name", "filled"},
                        {"path", "/tmp/fill"},
                        {"archive", {{"none", Json::object()}}},
                        {"s3", {{"key", "crash/filled.bin"}}}}}}};
  proxy.set_mode(Mode::Slow);
  proxy.set_bytes_per_second(4u << 20);  // eight seconds for the upload
  {
    PluginProcess plugin(args, cache);
    std::thread agent([&] { plugin.execute(tmpl); });
    ASSERT_TRUE(wait_for([&] { return proxy.request_bytes() > (1u << 20); }, 60s)) << plugin.log();
    EXPECT_EQ(entries_in(cache / "sandboxes"), 1u);  // the step's directory
    ::kill(plugin.pid(), SIGKILL);
    agent.join();
  }
  // No object, or (the bytes the dead process had handed to the kernel were still delivered) a
  // whole one; never a torn one: a PUT is stored whole or not at all.
  if (auto early = server.get("argo", "crash/filled.bin", dir / "early.bin")) {
    std::cout << "the upload was complete in the kernel's buffers when the plugin died\n";
    EXPECT_EQ(s3::read_file(*early), std::string(kSize, 'z'));
  }
  EXPECT_EQ(entries_in(cache / "sandboxes"), 1u);  // the dead step's directory
  proxy.set_mode(Mode::Pass);
  {
    PluginProcess plugin(args, cache);
    // Swept at start (in the background).
    EXPECT_TRUE(wait_for([&] { return entries_in(cache / "sandboxes") == 0; }, 30s))
        << plugin.log();
    auto reply = plugin.execute(tmpl);
    EXPECT_EQ(reply.body["node"]["phase"], "Succeeded") << reply.raw;
  }
  auto fetched = server.get("argo", "crash/filled.bin", dir / "got.bin");
  ASSERT_TRUE(fetched.has_value());
  const std::string stored = s3::read_file(*fetched);
  EXPECT_EQ(stored.size(), kSize);
  EXPECT_TRUE(stored == std::string(kSize, 'z')) << "the stored object is not the module's file";
  fs::remove_all(cache);
}
