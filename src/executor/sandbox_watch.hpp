// Caps what a step may hold on the host through its sandbox directory: bytes and files stored in
// it, so one module cannot fill the node's disk, and files it has open, so one module cannot use up
// the process's file descriptors that every other step needs. Checked after input artifacts are
// placed, every `interval` while the module runs (a stop request ends it at the next epoch tick),
// and once more after it ended.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/result.hpp"
#include "sandbox/stop_signal.hpp"

namespace wwp::executor {

struct SandboxLimits {
  std::uint64_t bytes = 1ULL << 30;
  std::uint64_t files = 100000;
  // Descriptors of this process open on anything under the step's directory (the module's WASI
  // files and directories: Wasmtime opens a host file for each).
  std::uint64_t open_files = 1024;
};

// "disk limit 64Mi exceeded" / "disk limit of 100000 files exceeded" / "open files limit of 1024
// exceeded" when the step at `root` is over a limit; nullopt when it is within them. An unreadable
// tree is an error.
Result<std::optional<std::string>> sandbox_excess(const std::filesystem::path& root,
                                                  const SandboxLimits& limits);

// How many of this process's file descriptors are open on `root` or below it (/proc/self/fd).
std::uint64_t open_files_under(const std::filesystem::path& root);

// Measures `root` in a background thread while it lives and requests `stop` with the message above
// when a limit is passed. A scan that meets a tree changing under it is skipped (the check after
// the run is exact). Scans are spaced at least `interval` and at least four times their own length
// apart, so a huge tree costs a bounded share of one core.
class SandboxWatch {
 public:
  SandboxWatch(std::filesystem::path root, SandboxLimits limits, std::chrono::milliseconds interval,
               std::shared_ptr<sandbox::StopSignal> stop);
  SandboxWatch(const SandboxWatch&) = delete;
  SandboxWatch& operator=(const SandboxWatch&) = delete;
  ~SandboxWatch();

 private:
  void loop();

  std::filesystem::path root_;
  SandboxLimits limits_;
  std::chrono::milliseconds interval_;
  std::shared_ptr<sandbox::StopSignal> stop_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace wwp::executor
