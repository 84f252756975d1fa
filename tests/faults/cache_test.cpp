// The cache directory under attack: precompiled files with a flipped bit (never loaded:
// rebuilt), and a cache disk that is full (steps fail with a clear message, the server
// survives, and everything works again once space is freed).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <thread>

#include "../oci/registry_fixture.hpp"
#include "fault_support.hpp"

using namespace wwp::testing;
using namespace wwp::faults::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> precompiled_files(const fs::path& cache) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(cache / "compiled", ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".cwasm") found.push_back(it->path());
  }
  return found;
}

// Waits (bounded) until the background compiler has written the precompiled file whole.
fs::path wait_for_precompiled(const fs::path& cache) {
  for (int i = 0; i < 2400; ++i) {
    auto files = precompiled_files(cache);
    if (!files.empty() && wwp::oci::test::temp_files(cache / "compiled").empty())
      return files.front();
    std::this_thread::sleep_for(50ms);
  }
  return {};
}

// A small tmpfs mounted for the test (we run as root in CI), unmounted at the end.
class SmallDisk {
 public:
  SmallDisk(const fs::path& where, const std::string& size) : where_(where) {
    fs::create_directories(where_);
    const std::string options = "size=" + size + ",mode=0755";
    mounted_ = ::mount("tmpfs", where_.c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  std::uint64_t free_bytes() const {
    struct statvfs st {};
    ::statvfs(where_.c_str(), &st);
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  }
  // Takes all but `leave` bytes with one file; returns its path.
  fs::path fill(std::uint64_t leave) const {
    const fs::path filler = where_ / "filler";
    const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const std::uint64_t free = free_bytes();
    if (fd >= 0 && free > leave) {
      ::posix_fallocate(fd, 0, static_cast<off_t>(free - leave));
    }
    ::close(fd);
    return filler;
  }

 private:
  fs::path where_;
  bool mounted_ = false;
};

}  // namespace

TEST(CacheFaults, BitFlippedPrecompiledFilesAreNeverLoadedAndAreRebuilt) {
  // (A truncated file is Lifecycle.RestartLoadsPrecompiledModulesAndRebuildsCorruptOnes.)
  const fs::path cache = fresh_temp_dir("bitflip");
  const Json tmpl = wasm_template("hello_go.wasm", {{"args", {"a flipped bit"}}});
  {
    PluginProcess plugin({}, cache);
    EXPECT_EQ(plugin.execute(tmpl).body["node"]["phase"], "Succeeded");
    ASSERT_FALSE(wait_for_precompiled(cache).empty());
  }
  const fs::path cwasm = precompiled_files(cache).front();
  const std::string whole = wwp::oci::test::read_file(cwasm);
  // One bit in the seal's header, one in the machine code, one in the last byte.
  for (const std::size_t position : {std::size_t{12}, whole.size() / 2, whole.size() - 1}) {
    SCOPED_TRACE("bit flipped at byte " + std::to_string(position));
    std::string flipped = whole;
    flipped[position] = static_cast<char>(flipped[position] ^ 0x10);
    wwp::oci::test::write_file(cwasm, flipped);
    PluginProcess plugin({}, cache);
    auto reply = plugin.execute(tmpl);
    EXPECT_EQ(reply.body["node"]["outputs"]["result"], "Hello from a flipped bit") << reply.raw;
    // Removed on sight and written again by the background compiler, whole.
    const fs::path rebuilt = wait_for_precompiled(cache);
    ASSERT_FALSE(rebuilt.empty()) << plugin.log();
    EXPECT_NE(wwp::oci::test::read_file(rebuilt), flipped);
  }
  {
    // And the rebuilt file is good: the next process runs from it.
    PluginProcess plugin({}, cache);
    EXPECT_EQ(plugin.execute(tmpl).body["node"]["phase"], "Succeeded");
  }
  fs::remove_all(cache);
}

TEST(CacheFaults, AFullCacheDiskFailsStepsClearlyAndTheServerRecovers) {
  const fs::path root = fresh_temp_dir("disk-full");
  SmallDisk disk(root / "cache", "16m");
  if (!disk.mounted()) GTEST_SKIP() << "mounting a tmpfs needs root (CI runs as root)";
  wwp::oci::test::Registry registry;
  const std::string ref = registry.host() + "/team/greet:v1";
  ASSERT_EQ(
      wwp::oci::test::run_command({plugin_binary().string(), "push", "--insecure-oci-registries",
                                   registry.host(), (module_dir() / "greet.wasm").string(), ref})
          .exit_code,
      0);
  PluginProcess plugin({"--insecure-oci-registries", registry.host()}, root / "cache");
  const Json from_registry = {
      {"name", "greet"},
      {"plugin", {{"wasm", {{"module", {{"oci", ref}}}, {"args", {"free space"}}}}}}};
  // A step that needs its sandbox directory: a 256 KiB input artifact to write there.
  Json with_files = wasm_template("upper.wasm", {{"args", {"/tmp/in.txt", "/tmp/out.txt"}}});
  with_files["inputs"] = {{"artifacts",
                           {{{"name", "big"},
                             {"path", "/tmp/in.txt"},
                             {"raw", {{"data", std::string(256 << 10, 'a')}}}}}}};
  with_files["outputs"] = {
      {"parameters", {{{"name", "out"}, {"valueFrom", {{"path", "/tmp/out.txt"}}}}}}};

  const fs::path filler = disk.fill(16 * 1024);
  for (const auto& [name, tmpl] : {std::pair{"pull", from_registry}, {"sandbox", with_files}}) {
    SCOPED_TRACE(name);
    const TimedReply full = timed_execute(plugin, tmpl, std::string("full-") + name);
    ASSERT_NE(full.reply.status, 0) << plugin.log();
    if (full.reply.status == 200) {
      EXPECT_EQ(full.reply.body["node"]["phase"], "Failed") << full.reply.raw;
    } else {
      EXPECT_EQ(full.reply.status, 503) << full.reply.raw;
    }
    const std::string message = message_of(full.reply);
    std::cout << name << " on a full disk: " << full.reply.status << ": " << message << "\n";
    EXPECT_NE(message.find("No space left on device"), std::string::npos) << message;
    EXPECT_EQ(healthz(plugin.port()), 200);
  }

  fs::remove(filler);
  auto pulled = plugin.execute(from_registry, "freed-pull");
  EXPECT_EQ(pulled.body["node"]["outputs"]["result"], "Hello, free space!") << pulled.raw;
  auto sandboxed = plugin.execute(with_files, "freed-sandbox");
  EXPECT_EQ(sandboxed.body["node"]["phase"], "Succeeded") << sandboxed.raw;
  EXPECT_EQ(sandboxed.body["node"]["outputs"]["parameters"][0]["value"],
            std::string(256 << 10, 'A'));
}
